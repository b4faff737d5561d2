#!/usr/bin/env bash
# hit.sh compares what a cache hit costs (make bench-hit): the same bytes
# served by nginx from a file, by a bare net/http server from memory (the
# ceiling of our stack), by edge.Serve alone, and by rendercache itself (a
# built `rendercache serve`, a crawler's hit of a rendered page), with wrk
# on 127.0.0.1. It prints req/s, p99 and the ratios to nginx and to the
# bare server; then rendercache's p99 at half its peak rate; then, on a
# 3-node cluster of `rendercache serve` processes, a hit on a page's owner
# and on a node that does not own it. It is a benchmark, never a test:
# timings depend on the machine.
#
# The rendered page is what every target serves: rendercache renders the
# generated page once, and nginx, bare and edge serve the bytes it answers.
#
# Then the other two surfaces on the same bytes as nginx and the bare
# server: an asset zone's hit (a 32 KB CSS file and a 1 MB image, Host
# <zone>.cdn.localhost) and a tenant's CMS API proxy hit (a JSON answer,
# Host <slug>.tenants.localhost, path /~api/...).
#
# Settings (environment): THREADS (2), CONNS (64), DURATION (8s), RUNS (1,
# averaged), SIZES ("512 28672" bytes), PARTS ("page cluster surfaces":
# which parts run; CLUSTER=0 drops the cluster part as before).
set -euo pipefail

THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-8s}
RUNS=${RUNS:-1}
SIZES=${SIZES:-"512 28672"}
CLUSTER=${CLUSTER:-1}
PARTS=${PARTS:-"page cluster surfaces"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}

# --- tools -----------------------------------------------------------------

# install_tools installs nginx-light and wrk from Debian's packages when
# missing, without starting nginx's system service.
install_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
	[ ${#missing[@]} -eq 0 ] && return
	local sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "installing ${missing[*]} from Debian's packages"
	# A policy-rc.d that exits 101 keeps dpkg from starting the service.
	local policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		policy=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\nexit 101\n' | $sudo tee $policy >/dev/null
		$sudo chmod 755 $policy
	fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
	[ -z "$policy" ] || $sudo rm -f "$policy"
}

NGINX=
find_nginx() { NGINX=$(command -v nginx || echo /usr/sbin/nginx); }

# --- plumbing --------------------------------------------------------------

WORK=$(mktemp -d)
PIDS=()
RC_PIDS=()
cleanup() {
	stop_rendercache
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# free_port prints a port on 127.0.0.1 that nothing listens on, below the
# kernel's ephemeral range (outgoing connections take ports from there,
# and a port in use by one cannot be bound) and never handed out before
# by this script (the servers bind theirs only once they start).
PORT_FILE=$WORK/ports
free_port() {
	local p lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for _ in $(seq 200); do
		p=$((10000 + RANDOM % (lo - 10000)))
		if grep -qx "$p" "$PORT_FILE" 2>/dev/null; then continue; fi
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p" >>"$PORT_FILE"
			echo "$p"
			return
		fi
	done
	echo "no free port" >&2
	exit 1
}

# wait_up waits until the server of an http://HOST:PORT/... URL listens.
wait_up() {
	local hostport=${1#http://}
	hostport=${hostport%%/*}
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}") 2>/dev/null; then return; fi
		sleep 0.1
	done
	echo "$1 did not come up" >&2
	exit 1
}

# make_page writes an HTML page of about $2 bytes to $1: tags and varied
# words, so that it is neither trivial nor random, and complete, so that
# its render is about as large. (Every target serves the rendered page.)
make_page() {
	local file=$1 size=$2 i=0 line head='<!doctype html><html><head><title>bench</title></head><body>' tail='</body></html>'
	local n=$((${#head} + ${#tail} + 2))
	{
		printf '%s\n' "$head"
		while :; do
			line=$(printf '<div class="c%d"><a href="/p/%d">page %d of the cache</a></div>' $((i % 50)) $((i * 7919 % 100000)) $i)
			[ $((n + ${#line} + 1)) -le "$size" ] || break
			printf '%s\n' "$line"
			n=$((n + ${#line} + 1))
			i=$((i + 1))
		done
		printf '%s\n' "$tail"
	} >"$file"
}

# --- targets ---------------------------------------------------------------
# Each start_* starts one server for the page file $1 and sets URL to the
# page's address. They run in this shell, never in $(...), so that PIDS
# (and RC_PIDS) keep every server to stop.

# start_nginx FILE [NAME]: nginx serving FILE as /NAME (page.html), its
# type from Debian's mime.types by NAME's extension.
start_nginx() {
	local port dir=$WORK/nginx name=${2:-page.html} types=
	port=$(free_port)
	mkdir -p "$dir/www" "$dir/tmp"
	cp "$1" "$dir/www/$name"
	[ -r /etc/nginx/mime.types ] && types="include /etc/nginx/mime.types;"
	chmod -R a+rX "$WORK" # workers run as nobody when started by root
	cat >"$dir/nginx.conf" <<-EOF
		worker_processes auto;
		daemon off;
		pid $dir/nginx.pid;
		error_log $dir/error.log warn;
		events { worker_connections 4096; }
		http {
		  access_log off;
		  sendfile on;
		  tcp_nopush on;
		  keepalive_requests 1000000;
		  $types
		  default_type text/html;
		  client_body_temp_path $dir/tmp;
		  server {
		    listen 127.0.0.1:$port;
		    root $dir/www;
		  }
		}
	EOF
	"$NGINX" -c "$dir/nginx.conf" -p "$dir" >"$dir/out.log" 2>&1 &
	PIDS+=($!)
	URL="http://127.0.0.1:$port/$name"
}

# start_bare FILE [NAME TYPE]: the bare server writing FILE as /NAME
# with Content-Type TYPE (page.html, text/html).
start_bare() {
	local port
	port=$(free_port)
	"$WORK/barehttp" "127.0.0.1:$port" "$1" "${3:-text/html}" >"$WORK/bare.log" 2>&1 &
	PIDS+=($!)
	URL="http://127.0.0.1:$port/${2:-page.html}"
}

start_edge() {
	local port
	port=$(free_port)
	"$WORK/edgehttp" "127.0.0.1:$port" "$1" >"$WORK/edge.log" 2>&1 &
	PIDS+=($!)
	URL="http://127.0.0.1:$port/page.html"
}

# --- rendercache ----------------------------------------------------------
# A node is a real `rendercache serve` process with its own data dir; the
# domain bench.test has a bare server as its origin, serving the generated
# page. A crawler hit is a GET with the domain as Host and Googlebot's
# user agent.

BENCH_HOST=bench.test
BOT='Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
HEADERS_rendercache=(-H "Host: $BENCH_HOST" -H "User-Agent: $BOT")
ADMIN=rk_admin_bench$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# start_node NAME [serve flags...]: starts `rendercache serve` for node
# NAME on free ports; sets NODE_HTTP and NODE_GOSSIP to its addresses.
start_node() {
	local name=$1 dir=$WORK/$1
	shift
	mkdir -p "$dir"
	NODE_HTTP=127.0.0.1:$(free_port)
	NODE_GOSSIP=127.0.0.1:$(free_port)
	"$WORK/rendercache" serve --name "$name" --data-dir "$dir" --http-addr "$NODE_HTTP" \
		--internal-addr "127.0.0.1:$(free_port)" --raft-addr "127.0.0.1:$(free_port)" --gossip-addr "$NODE_GOSSIP" \
		--admin-token "$ADMIN" --allow-private-origins --log-level warn "$@" >"$dir/out.log" 2>&1 &
	RC_PIDS+=($!)
	for _ in $(seq 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$NODE_HTTP/readyz")" = 200 ]; then return; fi
		sleep 0.1
	done
	echo "node $name did not become ready:" >&2
	cat "$dir/out.log" >&2
	exit 1
}

# json_field NAME: the first string value of NAME in the JSON on stdin.
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -1; }

# register_domain HTTPADDR ORIGIN: creates an account, its key and the
# bench domain with ORIGIN as its origin, through the node at HTTPADDR.
register_domain() {
	local base=http://$1 id key
	id=$(curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
		-d '{"email":"bench@example.com","plan":"enterprise"}' "$base/admin/accounts" | json_field id)
	key=$(curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
		-d '{"name":"bench","roles":[]}' "$base/admin/accounts/$id/api-keys" | json_field key)
	curl -sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d "{\"domain\":\"$BENCH_HOST\",\"origin\":\"$2\"}" "$base/api/domains"
}

# crawl URL [curl args...]: a crawler's request for URL; prints the
# response headers (the body goes to $WORK/crawl.body).
crawl() {
	local url=$1
	shift
	curl -s -D - -o "$WORK/crawl.body" -H "Host: $BENCH_HOST" -A "$BOT" "$@" "$url"
}

# header NAME: the value of header NAME in the headers on stdin.
header() { tr -d '\r' | sed -n "s/^$1: //Ip" | head -1; }

# warm URL: renders the page at URL and waits until the node serves it
# as a hit.
warm() {
	for _ in $(seq 300); do
		if crawl "$1" | header Cache-Status | grep -q '^rendercache; hit'; then return; fi
		sleep 0.1
	done
	echo "$1 never became a hit" >&2
	exit 1
}

# start_origin FILE [TYPE]: a bare server serving FILE (as TYPE, default
# text/html) at every path as the origin; sets
# ORIGIN to its address.
start_origin() {
	local port
	port=$(free_port)
	"$WORK/barehttp" "127.0.0.1:$port" "$1" "${2:-text/html}" >"$WORK/origin.log" 2>&1 &
	PIDS+=($!)
	ORIGIN=http://127.0.0.1:$port
	wait_up "$ORIGIN/"
}

# start_rendercache SRC PAGE: one node whose domain's origin serves the
# generated page SRC; warms /page.html, writes the rendered page (what a
# crawler gets) to PAGE for the other targets, and sets URL.
start_rendercache() {
	start_origin "$1"
	start_node r1
	register_domain "$NODE_HTTP" "$ORIGIN"
	URL=http://$NODE_HTTP/page.html
	warm "$URL"
	crawl "$URL" >/dev/null
	cp "$WORK/crawl.body" "$2"
}

# stop_rendercache stops the rendercache nodes one at a time (a graceful
# leave each), so that none waits on a peer that is gone.
stop_rendercache() {
	for pid in "${RC_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	RC_PIDS=()
}

# pace.lua makes wrk send a fixed rate: wrk 4 has no -R (wrk2 has). Each
# wrk thread hands out send times RATE_INTERVAL_MS apart and a connection
# waits for the next one after each answer, so the rate holds whatever
# the latency; a thread more than 100 ms behind skips ahead rather than
# bursting. Unlike wrk2 it does not count the wait of a late send in the
# latency (coordinated omission), so its p99 is a lower bound when the
# server falls behind, which the achieved rate shows.
write_pace() {
	cat >"$WORK/pace.lua" <<-'LUA'
		local ffi = require("ffi")
		ffi.cdef[[
		typedef struct { long tv_sec; long tv_nsec; } pace_timespec;
		int clock_gettime(int clk, pace_timespec *ts);
		]]
		local ts = ffi.new("pace_timespec")
		local function now_ms()
		  ffi.C.clock_gettime(1, ts)
		  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
		end
		local interval = tonumber(os.getenv("RATE_INTERVAL_MS") or "0")
		local slot = nil
		function delay()
		  local t = now_ms()
		  if slot == nil or slot < t - 100 then slot = t end
		  local wait = slot - t
		  slot = slot + interval
		  if wait < 0 then return 0 end
		  return wait
		end
	LUA
}

# --- measuring -------------------------------------------------------------

# wrk_once URL [wrk args...]: one wrk run; sets RPS and P99 (ms).
wrk_once() {
	local url=$1 out
	shift
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "$url: non-2xx answers:" >&2
		echo "$out" >&2
		exit 1
	fi
	RPS=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
	P99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}' <<<"$out")
}

# bench NAME URL [wrk args...]: warms up, runs wrk RUNS times and sets
# RPS and P99 (ms) to the averages.
bench() {
	local name=$1 url=$2 rps_sum=0 p99_sum=0
	shift 2
	wait_up "$url"
	wrk -t1 -c4 -d1s "$@" "$url" >/dev/null
	for _ in $(seq "$RUNS"); do
		wrk_once "$url" "$@"
		rps_sum=$((rps_sum + RPS))
		p99_sum=$(awk -v a="$p99_sum" -v b="$P99" 'BEGIN {print a + b}')
	done
	RPS=$((rps_sum / RUNS))
	P99=$(awk -v s="$p99_sum" -v n="$RUNS" 'BEGIN {printf "%.2f", s / n}')
}

# compare NAME=URL... : measures the targets in turns (round r runs each
# target once) so that a change in the machine's load during the rounds
# weighs on every target alike; sets TRPS[NAME] and TP99[NAME] to the
# averages. A target's wrk arguments are in ARGS_<NAME> (an array name).
declare -A TRPS TP99
compare() {
	local spec name url
	declare -A rsum psum
	for spec in "$@"; do
		name=${spec%%=*} url=${spec#*=}
		local -n args=ARGS_$name
		wait_up "$url"
		wrk -t1 -c4 -d1s "${args[@]}" "$url" >/dev/null
		rsum[$name]=0 psum[$name]=0
	done
	for _ in $(seq "$RUNS"); do
		for spec in "$@"; do
			name=${spec%%=*} url=${spec#*=}
			local -n args=ARGS_$name
			wrk_once "$url" "${args[@]}"
			rsum[$name]=$((rsum[$name] + RPS))
			psum[$name]=$(awk -v a="${psum[$name]}" -v b="$P99" 'BEGIN {print a + b}')
		done
	done
	for spec in "$@"; do
		name=${spec%%=*}
		TRPS[$name]=$((rsum[$name] / RUNS))
		TP99[$name]=$(awk -v s="${psum[$name]}" -v n="$RUNS" 'BEGIN {printf "%.2f", s / n}')
	done
}

# row NAME LABEL: prints one result line with the ratios to nginx and bare
# (NGINX_RPS, BARE_RPS; "-" when unknown or not comparable).
row() {
	printf '%-26s %7s %10s %9s %8s %8s\n' "$1" "$2" "$RPS" "$P99" \
		"$(awk -v a="$RPS" -v b="${3:-0}" 'BEGIN {if (b) printf "%.2f", a / b; else print "-"}')" \
		"$(awk -v a="$RPS" -v b="${4:-0}" 'BEGIN {if (b) printf "%.2f", a / b; else print "-"}')"
}

# stop_all stops the servers of one page size.
stop_all() {
	stop_rendercache
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	PIDS=()
}

# size_label FILE: the file's size as 0.5KB or 28KB.
size_label() {
	awk -v s="$(wc -c <"$1")" 'BEGIN {if (s < 1024) printf "%.1fKB", s / 1024; else printf "%dKB", s / 1024}'
}

ARGS_nginx=()
ARGS_bare=()
ARGS_edge=()
ARGS_rendercache=("${HEADERS_rendercache[@]}")
ARGS_gzip=("${HEADERS_rendercache[@]}" -H 'Accept-Encoding: gzip')

# one_node SIZE: every target on one page of about SIZE bytes, measured
# in turns.
one_node() {
	local src=$WORK/src-$1.html page=$WORK/page-$1.html label rc_url nginx_url bare_url edge_url
	make_page "$src" "$1"
	start_rendercache "$src" "$page"
	rc_url=$URL
	label=$(size_label "$page")
	start_nginx "$page"
	nginx_url=$URL
	start_bare "$page"
	bare_url=$URL
	start_edge "$page"
	edge_url=$URL
	compare nginx="$nginx_url" bare="$bare_url" edge="$edge_url" rendercache="$rc_url" gzip="$rc_url"
	local t n=${TRPS[nginx]} b=${TRPS[bare]}
	for t in nginx bare edge rendercache gzip; do
		RPS=${TRPS[$t]} P99=${TP99[$t]}
		case $t in
		nginx) row nginx "$label" "$n" "" ;;
		bare) row "bare net/http" "$label" "$n" "$b" ;;
		edge) row "edge.Serve alone" "$label" "$n" "$b" ;;
		rendercache) row rendercache "$label" "$n" "$b" ;;
		# Crawlers ask for gzip: for information (nginx and bare send
		# identity, so no ratio).
		gzip) row "rendercache, gzip" "$label" "" "" ;;
		esac
	done
	ONE_NODE_RPS[$1]=${TRPS[rendercache]}
	# Latency at half rendercache's peak rate, paced with pace.lua; the
	# bare server at the same rate shows what the machine allows.
	local rate=$((TRPS[rendercache] / 2))
	RATE_INTERVAL_MS=$(awk -v t="$THREADS" -v r="$rate" 'BEGIN {printf "%.6f", t * 1000 / r}')
	export RATE_INTERVAL_MS
	ARGS_rcpaced=("${HEADERS_rendercache[@]}" -s "$WORK/pace.lua")
	ARGS_barepaced=(-s "$WORK/pace.lua")
	compare rcpaced="$rc_url" barepaced="$bare_url"
	unset RATE_INTERVAL_MS
	RPS=${TRPS[rcpaced]} P99=${TP99[rcpaced]}
	row "rendercache at $rate/s" "$label" "" ""
	RPS=${TRPS[barepaced]} P99=${TP99[barepaced]}
	row "bare at $rate/s" "$label" "" ""
	stop_all
}

# cluster: a 3-node cluster of `rendercache serve` processes; a hit on a
# page's owner, and on node r1 for a page another node owns (r1 got it from
# the owner once and answers from its hot map since).
cluster() {
	local size
	for size in $SIZES; do
		local src=$WORK/src-$size.html
		[ -f "$src" ] || make_page "$src" "$size" # PARTS without page
		start_origin "$src"
		start_node c1
		local n1=$NODE_HTTP g1=$NODE_GOSSIP key
		key=$(cat "$WORK/c1/cluster.key")
		start_node c2 --join "$g1" --cluster-key "$key"
		local n2=$NODE_HTTP
		start_node c3 --join "$g1" --cluster-key "$key"
		local n3=$NODE_HTTP
		# Every node sees three members before the domain exists.
		for n in "$n1" "$n2" "$n3"; do
			local seen=0
			for _ in $(seq 300); do
				if [ "$(curl -s -H "Authorization: Bearer $ADMIN" "http://$n/admin/cluster" | grep -o '"name"' | wc -l)" -ge 3 ]; then
					seen=1
					break
				fi
				sleep 0.1
			done
			[ "$seen" = 1 ] || { echo "node $n never saw three members" >&2; exit 1; }
		done
		register_domain "$n1" "$ORIGIN"
		# A page that c1 does not own: whoever rendered it owns it.
		local path="" owner="" i
		for i in $(seq 0 40); do
			owner=$(crawl "http://$n1/p$i.html" | header X-Rendercache-Node)
			if [ -n "$owner" ] && [ "$owner" != c1 ]; then
				path=/p$i.html
				break
			fi
		done
		if [ -z "$path" ]; then
			echo "no page owned by another node than c1" >&2
			exit 1
		fi
		local owner_http=$n2
		[ "$owner" = c3 ] && owner_http=$n3
		warm "http://$n1$path"
		warm "http://$owner_http$path"
		local label
		label=$(size_label "$WORK/crawl.body")
		ARGS_owner=("${HEADERS_rendercache[@]}")
		ARGS_nonowner=("${HEADERS_rendercache[@]}")
		compare owner="http://$owner_http$path" nonowner="http://$n1$path"
		RPS=${TRPS[owner]} P99=${TP99[owner]}
		row "3 nodes: owner ($owner)" "$label" "" ""
		local owner_rps=$RPS
		RPS=${TRPS[nonowner]} P99=${TP99[nonowner]}
		row "3 nodes: non-owner (c1)" "$label" "" ""
		printf '%-26s %7s   non-owner = %s× the one-node hit, %s× the owner\n' "" "$label" \
			"$(awk -v a="$RPS" -v b="${ONE_NODE_RPS[$size]:-0}" 'BEGIN {if (b) printf "%.2f", a / b; else print "-"}')" \
			"$(awk -v a="$RPS" -v b="$owner_rps" 'BEGIN {printf "%.2f", a / b}')"
		stop_all
		rm -rf "$WORK"/c1 "$WORK"/c2 "$WORK"/c3
	done
}


# --- the other surfaces: asset zones and the CMS API proxy -----------------
# One node; its origin is a bare server answering the object's bytes with
# its type (and no Cache-Control: the zone's default TTL for the type, the
# tenant's apiCacheTTL). rendercache, nginx and the bare server then serve
# the same bytes in turns, as for pages.

# make_css FILE SIZE: a stylesheet of about SIZE bytes.
make_css() {
	awk -v n="$2" 'BEGIN { s = 0; for (i = 0; ; i++) {
		l = sprintf(".c%d { color: #%06x; margin: %dpx %dpx; }\n", i, (i * 7919) % 16777216, i % 17, i % 29)
		if (s + length(l) > n) break; printf "%s", l; s += length(l) } }' >"$1"
}

# make_json FILE SIZE: a CMS-like JSON answer of about SIZE bytes.
make_json() {
	awk -v n="$2" 'BEGIN { printf "{\"items\":["; s = 10; for (i = 0; ; i++) {
		l = sprintf("%s{\"id\":%d,\"title\":\"entry %d\",\"slug\":\"entry-%d\"}", i ? "," : "", i, i * 7919 % 100000, i)
		if (s + length(l) > n) break; printf "%s", l; s += length(l) } printf "]}" }' >"$1"
}

# account_key HTTPADDR: creates an enterprise account and prints a key.
account_key() {
	local base=http://$1 id
	id=$(curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
		-d '{"email":"surfaces@example.com","plan":"enterprise"}' "$base/admin/accounts" | json_field id)
	curl -sf -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
		-d '{"name":"bench","roles":[]}' "$base/admin/accounts/$id/api-keys" | json_field key
}

# warm_host URL HOST: asks for URL with HOST until the node answers a hit.
warm_host() {
	for _ in $(seq 300); do
		if curl -s -D - -o "$WORK/warm.body" -H "Host: $2" "$1" | header Cache-Status | grep -q 'hit'; then return; fi
		sleep 0.1
	done
	echo "$1 (Host $2) never became a hit" >&2
	exit 1
}

# surface_row LABEL FILE NAME TYPE URL HOST: nginx, bare and rendercache on
# FILE's bytes, rendercache's at URL with HOST (already a hit).
surface_row() {
	local label=$1 file=$2 name=$3 type=$4 rc_url=$5 host=$6 nginx_url bare_url
	cmp -s "$file" "$WORK/warm.body" || { echo "$label: rendercache's bytes differ from the file" >&2; exit 1; }
	start_nginx "$file" "$name"
	nginx_url=$URL
	start_bare "$file" "$name" "$type"
	bare_url=$URL
	ARGS_surface=(-H "Host: $host")
	compare nginx="$nginx_url" bare="$bare_url" surface="$rc_url"
	local n=${TRPS[nginx]} b=${TRPS[bare]}
	RPS=${TRPS[nginx]} P99=${TP99[nginx]}
	row "nginx" "$label" "$n" ""
	RPS=${TRPS[bare]} P99=${TP99[bare]}
	row "bare net/http" "$label" "$n" "$b"
	RPS=${TRPS[surface]} P99=${TP99[surface]}
	row "rendercache $7" "$label" "$n" "$b"
	# nginx and the bare server of this object only; the node stays.
	for pid in "${PIDS[@]:${#PIDS[@]}-2}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
	PIDS=("${PIDS[@]:0:${#PIDS[@]}-2}")
}

surfaces() {
	local css=$WORK/style.css png=$WORK/hero.png json=$WORK/items.json key node zone_host api_host
	make_css "$css" 32768
	head -c 1048576 /dev/urandom >"$png"
	make_json "$json" 4096
	start_node s1
	node=$NODE_HTTP
	key=$(account_key "$node")
	# The CSS zone and the image zone, each with its own origin.
	start_origin "$css" text/css
	curl -sf -o /dev/null -H "X-ResCDN-Key: $key" -H 'Content-Type: application/json' \
		-d "{\"name\":\"css\",\"origin\":\"$ORIGIN\"}" "http://$node/v1/zones"
	start_origin "$png" image/png
	curl -sf -o /dev/null -H "X-ResCDN-Key: $key" -H 'Content-Type: application/json' \
		-d "{\"name\":\"img\",\"origin\":\"$ORIGIN\"}" "http://$node/v1/zones"
	# The tenant whose CMS API is a bare server answering the JSON.
	start_origin "$json" application/json
	curl -sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d '{"slug":"bench","cms":{"provider":"generic"}}' "http://$node/api/tenants"
	curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
		-d "{\"apiOrigin\":\"$ORIGIN\",\"apiAuthMode\":\"none\",\"apiCacheTTL\":3600}" "http://$node/api/tenants/bench/api-config"

	zone_host=css.cdn.localhost
	warm_host "http://$node/style.css" "$zone_host"
	surface_row "$(size_label "$css") css" "$css" style.css text/css "http://$node/style.css" "$zone_host" "asset"
	zone_host=img.cdn.localhost
	warm_host "http://$node/hero.png" "$zone_host"
	surface_row "1MB png" "$png" hero.png image/png "http://$node/hero.png" "$zone_host" "asset"
	api_host=bench.tenants.localhost
	warm_host "http://$node/~api/items" "$api_host"
	surface_row "$(size_label "$json") json" "$json" items.json application/json "http://$node/~api/items" "$api_host" "API proxy"
	stop_all
}

declare -A ONE_NODE_RPS

main() {
	install_tools
	find_nginx
	echo "building the Go servers and rendercache"
	(cd "$ROOT" && $GO build -o "$WORK/barehttp" ./bench/barehttp && $GO build -o "$WORK/edgehttp" ./bench/edgehttp &&
		$GO build -o "$WORK/rendercache" ./cmd/rendercache)
	write_pace
	echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $RUNS run(s) each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '\n%-26s %7s %10s %9s %8s %8s\n' target page req/s "p99 ms" "×nginx" "×bare"
	local size
	if [[ " $PARTS " == *" page "* ]]; then
		for size in $SIZES; do
			one_node "$size"
			rm -rf "$WORK/r1"
		done
	fi
	[ "$CLUSTER" = 1 ] && [[ " $PARTS " == *" cluster "* ]] && cluster
	[[ " $PARTS " == *" surfaces "* ]] && surfaces
	echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
