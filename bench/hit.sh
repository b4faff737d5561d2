#!/usr/bin/env bash
# hit.sh compares what a cache hit costs (make bench-hit): the same bytes
# served by nginx from a file, by a bare net/http server from memory (the
# ceiling of our stack), and by rendercache's hit path, with wrk on
# 127.0.0.1. It prints req/s, p99 and the ratios to nginx and to the bare
# server. It is a benchmark, never a test: timings depend on the machine.
#
# Settings (environment): THREADS (2), CONNS (64), DURATION (8s), RUNS (1,
# averaged), SIZES ("512 28672" bytes).
set -euo pipefail

THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-8s}
RUNS=${RUNS:-1}
SIZES=${SIZES:-"512 28672"}
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
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

# free_port prints a port on 127.0.0.1 that nothing listens on.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
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

# make_page writes an HTML page of exactly $2 bytes to $1: tags and varied
# words, so that it is neither trivial nor random.
make_page() {
	local file=$1 size=$2 i=0
	{
		printf '<!doctype html><html><head><title>bench</title></head><body>\n'
		while [ $i -lt $(((size / 60) + 1)) ]; do
			printf '<div class="c%d"><a href="/p/%d">page %d of the cache</a></div>\n' $((i % 50)) $((i * 7919 % 100000)) $i
			i=$((i + 1))
		done
	} >"$file.full"
	head -c "$size" "$file.full" >"$file" # not a pipe: pipefail would see SIGPIPE
	rm -f "$file.full"
}

# --- targets ---------------------------------------------------------------
# Each start_* starts one server for the page file $1 and sets URL to the
# page's address (empty: no such target); a target's extra wrk headers go
# in HEADERS_<name>. They run in this shell, never in $(...), so that
# PIDS keeps every server to stop.

start_nginx() {
	local port dir=$WORK/nginx
	port=$(free_port)
	mkdir -p "$dir/www" "$dir/tmp"
	cp "$1" "$dir/www/page.html"
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
	URL="http://127.0.0.1:$port/page.html"
}

start_bare() {
	local port
	port=$(free_port)
	"$WORK/barehttp" "127.0.0.1:$port" "$1" >"$WORK/bare.log" 2>&1 &
	PIDS+=($!)
	URL="http://127.0.0.1:$port/page.html"
}

start_edge() {
	local port
	port=$(free_port)
	"$WORK/edgehttp" "127.0.0.1:$port" "$1" >"$WORK/edge.log" 2>&1 &
	PIDS+=($!)
	URL="http://127.0.0.1:$port/page.html"
}

# ==== HOOK: the rendercache target =========================================
# Wired by the lead once the serve path goes through edge. start_rendercache
# must start `rendercache serve` (one node; later also a 3-node cluster for
# the non-owner hit), register a domain whose origin serves the page file
# $1, warm the page once with a crawler User-Agent, set HEADERS_rendercache
# to the wrk headers of a crawler hit (-H 'Host: <domain>' -H 'User-Agent:
# Googlebot/2.1'), add its process to PIDS, and set URL to the page's
# address. Until then URL stays empty and the target is skipped.
HEADERS_rendercache=()
start_rendercache() {
	URL=
}
# ==== end of HOOK ===========================================================

# --- measuring -------------------------------------------------------------

# bench NAME URL [wrk headers...]: runs wrk RUNS times and sets RPS and
# P99 (ms) to the averages.
bench() {
	local name=$1 url=$2
	shift 2
	wait_up "$url"
	wrk -t1 -c4 -d1s "$@" "$url" >/dev/null # warm up
	local rps_sum=0 p99_sum=0 out rps p99
	for _ in $(seq "$RUNS"); do
		out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url")
		if grep -q 'Non-2xx' <<<"$out"; then
			echo "$name: non-2xx answers:" >&2
			echo "$out" >&2
			exit 1
		fi
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}' <<<"$out")
		rps_sum=$(awk -v a="$rps_sum" -v b="$rps" 'BEGIN {print a + b}')
		p99_sum=$(awk -v a="$p99_sum" -v b="$p99" 'BEGIN {print a + b}')
	done
	RPS=$(awk -v s="$rps_sum" -v n="$RUNS" 'BEGIN {printf "%.0f", s / n}')
	P99=$(awk -v s="$p99_sum" -v n="$RUNS" 'BEGIN {printf "%.2f", s / n}')
}

# stop_all stops the servers of one page size.
stop_all() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	PIDS=()
}

main() {
	install_tools
	find_nginx
	echo "building the Go servers"
	(cd "$ROOT" && $GO build -o "$WORK/barehttp" ./bench/barehttp && $GO build -o "$WORK/edgehttp" ./bench/edgehttp)
	echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $RUNS run(s) each, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	printf '\n%-24s %6s %10s %9s %8s %8s\n' target page req/s "p99 ms" "×nginx" "×bare"
	for size in $SIZES; do
		local page=$WORK/page-$size.html
		make_page "$page" "$size"
		local label
		label=$(awk -v s="$size" 'BEGIN {if (s < 1024) printf "%.1fKB", s / 1024; else printf "%dKB", s / 1024}')
		local names=() urls=() target
		for target in nginx bare edge rendercache; do
			"start_$target" "$page"
			[ -n "$URL" ] || continue
			urls+=("$URL")
			case $target in
			edge) names+=("edge (unwired)") ;;
			*) names+=("$target") ;;
			esac
		done
		local nginx_rps=0 bare_rps=0 i
		for i in "${!names[@]}"; do
			local headers=()
			[ "${names[$i]}" != rendercache ] || headers=("${HEADERS_rendercache[@]}")
			bench "${names[$i]}" "${urls[$i]}" "${headers[@]}"
			[ "${names[$i]}" != nginx ] || nginx_rps=$RPS
			[ "${names[$i]}" != bare ] || bare_rps=$RPS
			printf '%-24s %6s %10s %9s %8s %8s\n' "${names[$i]}" "$label" "$RPS" "$P99" \
				"$(awk -v a="$RPS" -v b="$nginx_rps" 'BEGIN {printf "%.2f", b ? a / b : 0}')" \
				"$(awk -v a="$RPS" -v b="$bare_rps" 'BEGIN {if (b) printf "%.2f", a / b; else print "-"}')"
		done
		# Crawlers ask for gzip: the same hit with its gzip body, for
		# information (nginx and bare send identity, so no ratio).
		bench "edge gzip" "${urls[2]}" -H 'Accept-Encoding: gzip'
		printf '%-24s %6s %10s %9s %8s %8s\n' "edge (unwired), gzip" "$label" "$RPS" "$P99" - -
		stop_all
	done
}

main "$@"
