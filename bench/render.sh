#!/usr/bin/env bash
# render.sh compares the render tier with the open-source prerender server
# (make bench-render): one rendercache node (the real `rendercache serve`,
# end to end: crawler request, render, cache fill) and the npm `prerender`
# package, on the same Chromium, the same SPA fixture (bench/render/site: a
# React-like app that sets window.prerenderReady 400 ms after its load
# event) and the same URLs, every request a miss. For each concurrency it
# runs the two side by side, rendercache first, and prints renders/s, p50,
# the fixture's own ready time (p50, from its <meta name="fixture-ready-ms">)
# and the ratio. It is a benchmark, never a test: timings depend on the
# machine and its load, so compare the ratios of one run.
#
# prerender is installed with npm into $CACHE (default
# ~/.cache/rendercache-bench) when missing.
#
# Settings (environment): LEVELS ("1 2 4"), REQUESTS (12 per level and
# target), CHROME (/usr/bin/chromium, else chromium on PATH),
# PRERENDER_VERSION (5.21), CACHE.
set -euo pipefail

LEVELS=${LEVELS:-"1 2 4"}
REQUESTS=${REQUESTS:-12}
PRERENDER_VERSION=${PRERENDER_VERSION:-5.21}
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rendercache-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GO=${GO:-go}
CHROME=${CHROME:-$(command -v /usr/bin/chromium || command -v chromium || command -v chromium-browser || true)}
GOOGLEBOT='Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
# The node's render slots: as many as the most concurrent level, as
# prerender opens a tab per request however many arrive.
SLOTS=$(printf '%s\n' $LEVELS | sort -n | tail -1)

[ -n "$CHROME" ] || { echo "no chromium found: make deps installs it" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
# descendants prints the processes below $1.
descendants() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}
PRERENDER_PID=
# cleanup stops every server. prerender leaves its Chromium running when it
# is killed, so its whole tree goes; the node stops its own.
cleanup() {
	local pid all=("${PIDS[@]}")
	[ -z "$PRERENDER_PID" ] || all+=($(descendants "$PRERENDER_PID"))
	for pid in "${all[@]}"; do kill "$pid" 2>/dev/null || true; done
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

# wait_up waits until something listens on 127.0.0.1:$1.
wait_up() {
	for _ in $(seq 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return; fi
		sleep 0.1
	done
	echo "nothing listens on port $1; logs in $WORK:" >&2
	tail -20 "$WORK"/*.log >&2 || true
	exit 1
}

# install_prerender installs the npm prerender package into $CACHE.
install_prerender() {
	if [ ! -f "$CACHE/prerender/node_modules/prerender/package.json" ]; then
		command -v npm >/dev/null || { echo "npm is needed to install prerender" >&2; exit 1; }
		echo "installing prerender@$PRERENDER_VERSION with npm into $CACHE/prerender"
		mkdir -p "$CACHE/prerender"
		(cd "$CACHE/prerender" && npm install --no-audit --no-fund --loglevel=error "prerender@$PRERENDER_VERSION" >/dev/null)
	fi
	PRERENDER_VERSION_INSTALLED=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$CACHE/prerender/node_modules/prerender/package.json")
}

# start_prerender starts prerender's stock server (its server.js: the
# default plugins) on the same Chromium; as root Chromium needs
# --no-sandbox, which rendercache passes too.
start_prerender() {
	PRERENDER_PORT=$(free_port)
	local debug
	debug=$(free_port)
	cat >"$WORK/prerender.js" <<-EOF
		const prerender = require('prerender');
		const server = prerender({
		  port: $PRERENDER_PORT,
		  chromeLocation: process.env.CHROME_LOCATION,
		  browserDebuggingPort: $debug,
		  chromeFlags: ['--headless', '--disable-gpu', '--remote-debugging-port=$debug', '--hide-scrollbars', '--no-sandbox'],
		});
		server.use(prerender.sendPrerenderHeader());
		server.use(prerender.browserForceRestart());
		server.use(prerender.addMetaTags());
		server.use(prerender.removeScriptTags());
		server.use(prerender.httpHeaders());
		server.start();
	EOF
	NODE_PATH="$CACHE/prerender/node_modules" CHROME_LOCATION=$CHROME \
		node "$WORK/prerender.js" >"$WORK/prerender.log" 2>&1 &
	PIDS+=($!)
	PRERENDER_PID=$!
	wait_up "$PRERENDER_PORT"
}

# start_rendercache starts one node and registers the fixture's domain.
start_rendercache() {
	local http internal raft gossip out
	http=$(free_port) internal=$(free_port) raft=$(free_port) gossip=$(free_port)
	"$WORK/rendercache" serve --name bench --data-dir "$WORK/node" \
		--http-addr "127.0.0.1:$http" --internal-addr "127.0.0.1:$internal" \
		--raft-addr "127.0.0.1:$raft" --gossip-addr "127.0.0.1:$gossip" \
		--allow-private-origins --chrome-path "$CHROME" --render-concurrency "$SLOTS" \
		>"$WORK/node.out" 2>"$WORK/node.log" &
	PIDS+=($!)
	NODE_PID=$!
	wait_up "$http"
	local token=
	for _ in $(seq 100); do
		token=$(grep -o 'rk_admin_[A-Za-z0-9]*' "$WORK/node.out" | head -1 || true)
		[ -n "$token" ] && break
		sleep 0.1
	done
	[ -n "$token" ] || { echo "the node printed no admin token" >&2; exit 1; }
	local api="http://127.0.0.1:$http" acc key
	acc=$(api_post "$api/admin/accounts" "Authorization: Bearer $token" '{"email":"bench@example.com","plan":"enterprise"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
	key=$(api_post "$api/admin/accounts/$acc/api-keys" "Authorization: Bearer $token" '{"name":"bench","roles":["script"]}' | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
	api_post "$api/api/domains" "X-Api-Key: $key" "{\"domain\":\"shop.test\",\"origin\":\"http://127.0.0.1:$ORIGIN_PORT\"}" >/dev/null
	RENDERCACHE_URL="$api/?bench={i}"
}

# api_post URL HEADER BODY posts JSON with retries while the node elects
# itself.
api_post() {
	local out
	for _ in $(seq 50); do
		if out=$(curl -sf -H "$2" -H 'Content-Type: application/json' -d "$3" "$1"); then
			echo "$out"
			return
		fi
		sleep 0.2
	done
	echo "POST $1 failed:" >&2
	curl -s -H "$2" -H 'Content-Type: application/json' -d "$3" "$1" >&2
	exit 1
}

# pss_mib prints the proportional set size of a process and everything
# below it, in MiB.
pss_mib() {
	local pids=($1) i=0 total=0
	while [ $i -lt ${#pids[@]} ]; do
		pids+=($(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null || true))
		i=$((i + 1))
	done
	for p in "${pids[@]}"; do
		total=$((total + $(awk '/^Pss:/ {print $2}' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)))
	done
	awk -v k="$total" 'BEGIN {printf "%.0f", k / 1024}'
}

main() {
	install_prerender
	echo "building rendercache and the fixture"
	(cd "$ROOT" && $GO build -o "$WORK/rendercache" ./cmd/rendercache && $GO build -o "$WORK/fixture" ./bench/render)
	ORIGIN_PORT=$(free_port)
	"$WORK/fixture" serve "127.0.0.1:$ORIGIN_PORT" >"$WORK/origin.log" 2>&1 &
	PIDS+=($!)
	wait_up "$ORIGIN_PORT"
	start_rendercache
	start_prerender
	local origin="http://127.0.0.1:$ORIGIN_PORT"
	local rc=(-H "Host: shop.test" -H "User-Agent: $GOOGLEBOT" "$RENDERCACHE_URL")
	local pr=("http://127.0.0.1:$PRERENDER_PORT/render?url=$origin/?bench={i}")

	# Warm both up: the first renders start Chromium's helper processes.
	"$WORK/fixture" load -c 1 -n 2 -first 1000000 "${rc[@]}" >/dev/null
	"$WORK/fixture" load -c 1 -n 2 -first 1000000 "${pr[@]}" >/dev/null

	echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $("$CHROME" --version 2>/dev/null | head -1),"
	echo "rendercache (1 node, $SLOTS render slots) vs prerender $PRERENDER_VERSION_INSTALLED, $REQUESTS misses per level and target"
	printf '\n%-11s | %-30s | %-30s | %s\n' concurrency rendercache prerender ratio
	local first=0 c r p over=
	for c in $LEVELS; do
		r=$("$WORK/fixture" load -c "$c" -n "$REQUESTS" -first "$first" "${rc[@]}")
		p=$("$WORK/fixture" load -c "$c" -n "$REQUESTS" -first "$first" "${pr[@]}")
		first=$((first + REQUESTS))
		[ "$c" != 1 ] || over=$(awk -v p="$(awk '{print $4}' <<<"$r")" -v f="$(awk '{print $6}' <<<"$r")" 'BEGIN {print p - f}')
		# "renders/s R p50-ms P ready-p50-ms F"
		printf '%-11s | %5s renders/s, p50 %5s ms | %5s renders/s, p50 %5s ms | %.2f×   (fixture ready p50: %s / %s ms)\n' "$c" \
			"$(awk '{print $2}' <<<"$r")" "$(awk '{print $4}' <<<"$r")" \
			"$(awk '{print $2}' <<<"$p")" "$(awk '{print $4}' <<<"$p")" \
			"$(awk -v a="$(awk '{print $2}' <<<"$r")" -v b="$(awk '{print $2}' <<<"$p")" 'BEGIN {print a / b}')" \
			"$(awk '{print $6}' <<<"$r")" "$(awk '{print $6}' <<<"$p")"
	done
	echo
	[ -z "${over:-}" ] || echo "at concurrency 1, rendercache's p50 is $over ms above the fixture's own ready time"
	echo "memory (PSS) after the run: rendercache node and its Chromium $(pss_mib "$NODE_PID") MiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
}

main "$@"
