#!/usr/bin/env bash
# Kodo vs InfluxDB 1.x, same load, same machine.
#
# Builds ./cmd/kodo and ./cmd/kodo-bench, starts kodo on a free loopback
# port with a temp -data dir, runs kodo-bench against it, stops it; then
# starts Debian's influxd (package `influxdb`, installed if missing) with a
# temp config on a free loopback port, runs the same bench, stops it; then
# prints both reports side by side and the ratio Kodo/influxd of write
# points/s. Every server is started by this script and stopped by its PID.
#
#   scripts/bench-compare.sh
#   DURATION=20s CONCURRENCY=4 scripts/bench-compare.sh
#
# Environment (defaults in brackets):
#   DURATION     time bound of each run [20s]
#   CONCURRENCY  concurrent clients [4]
#   WORKSPACES   workspaces / databases [4]
#   SERIES       series per workspace [10]
#   LINES        lines per body [5000]
#   MIX          operation weights [write=9,query=1]
#   RATE_HINT    points/s the pre-generated bodies are sized for [400000];
#                a run that uses them up stops early and says so
#   BENCH_ARGS   more kodo-bench flags, e.g. "-tags host,az -fields a,b"
#   KODO_ARGS    more kodo flags, e.g. "-clickhouse-dsn clickhouse://127.0.0.1:19000/default"
#   SKIP_INFLUX=1  run Kodo only
#   KODO_PLAIN=1 also run the current Kodo without KODO_ARGS (e.g. the
#                cost of -clickhouse-dsn, in the same run)
#   KODO_BEFORE  a git revision: build its ./cmd/kodo too, run it right
#                after the current one with the same load, and print the
#                two side by side (the cost of a change, in one run)
#   OUT_DIR      where the JSON reports go [the temp dir]
#   KEEP=1       keep the temp dir (data, logs, reports)
#
# Exit status: 0 when both runs finished without errors or loss, else 1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-20s}"
CONCURRENCY="${CONCURRENCY:-4}"
WORKSPACES="${WORKSPACES:-4}"
SERIES="${SERIES:-10}"
LINES="${LINES:-5000}"
MIX="${MIX:-write=9,query=1}"
RATE_HINT="${RATE_HINT:-400000}"
BENCH_ARGS="${BENCH_ARGS:-}"
KEEP="${KEEP:-0}"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench-compare: %s\n' "$*" >&2; exit 2; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/kodo-bench-compare.XXXXXX")"
OUT_DIR="${OUT_DIR:-$tmp}"
mkdir -p "$OUT_DIR"
pids=()

# stop_pid sends SIGTERM, waits up to 30 s, then SIGKILL: only to a PID
# this script started.
stop_pid() {
	local pid="$1"
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 120); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.25
	done
	log "pid $pid did not stop in 30s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	for pid in "${pids[@]}"; do stop_pid "$pid"; done
	if [[ "$KEEP" == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf -- "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port prints a loopback port nobody listens on (checked, then used
# at once: the window for a clash is small on a test machine).
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	die "no free port found"
}

# wait_http polls a URL until it answers 2xx (curl, or bash's /dev/tcp).
wait_http() {
	local port="$1" path="$2" pid="$3" logf="$4"
	for _ in $(seq 1 120); do # 30 s
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$logf" >&2; die "server (pid $pid) exited during start"; }
		if command -v curl >/dev/null; then
			curl -fsS -o /dev/null "http://127.0.0.1:$port$path" 2>/dev/null && return 0
		elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.25
	done
	tail -n 20 "$logf" >&2
	die "server on 127.0.0.1:$port did not answer $path within 30s"
}

bench() { # bench NAME ARGS... -> runs kodo-bench, report text on stdout
	local name="$1"
	shift
	local rc=0
	# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
	"$tmp/kodo-bench" -duration "$DURATION" -concurrency "$CONCURRENCY" -workspaces "$WORKSPACES" \
		-series "$SERIES" -lines "$LINES" -mix "$MIX" -rate-hint "$RATE_HINT" \
		-out "$OUT_DIR/$name.json" $BENCH_ARGS "$@" || rc=$?
	return "$rc"
}

log "building ./cmd/kodo and ./cmd/kodo-bench"
go build -o "$tmp/kodo" ./cmd/kodo
go build -o "$tmp/kodo-bench" ./cmd/kodo-bench

status=0

# run_kodo NAME TITLE BINARY [FLAGS...]: starts a Kodo binary on a free
# port with its own data dir, runs kodo-bench against it (report NAME.json),
# and stops it by its PID.
run_kodo() {
	local name="$1" title="$2" bin="$3"
	shift 3
	local port pid
	port="$(free_port)"
	log "starting $name on 127.0.0.1:$port (data $tmp/$name-data)"
	"$bin" -listen "127.0.0.1:$port" -data "$tmp/$name-data" -log-level info "$@" \
		>"$tmp/$name.log" 2>&1 </dev/null &
	pid=$!
	pids+=("$pid")
	wait_http "$port" /v1/ping "$pid" "$tmp/$name.log"
	log "$name pid $pid; running kodo-bench"
	echo
	echo "### $title"
	bench "$name" -target kodo -url "http://127.0.0.1:$port" -server-pid "$pid" || { status=1; log "$name run failed"; }
	stop_pid "$pid"
}

# shellcheck disable=SC2086 # KODO_ARGS is a list of flags
run_kodo kodo "Kodo" "$tmp/kodo" ${KODO_ARGS:-}

# --- Kodo without KODO_ARGS (KODO_PLAIN) ---------------------------------
if [[ "${KODO_PLAIN:-0}" == 1 ]]; then
	run_kodo kodo-plain "Kodo without KODO_ARGS" "$tmp/kodo"
	echo
	echo "### Kodo with KODO_ARGS vs without"
	"$tmp/kodo-bench" compare -markdown "$OUT_DIR/kodo.json" "$OUT_DIR/kodo-plain.json" || status=1
fi

# --- Kodo at another revision (KODO_BEFORE) -----------------------------
if [[ -n "${KODO_BEFORE:-}" ]]; then
	log "building ./cmd/kodo at $KODO_BEFORE"
	mkdir -p "$tmp/before-src"
	git archive "$KODO_BEFORE" | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/kodo-before" ./cmd/kodo)
	# shellcheck disable=SC2086 # KODO_ARGS is a list of flags
	run_kodo kodo-before "Kodo at $KODO_BEFORE" "$tmp/kodo-before" ${KODO_ARGS:-}
	echo
	echo "### Kodo now vs Kodo at $KODO_BEFORE"
	"$tmp/kodo-bench" compare -markdown "$OUT_DIR/kodo.json" "$OUT_DIR/kodo-before.json" || status=1
fi
if [[ "${SKIP_INFLUX:-0}" == 1 ]]; then
	[[ "$OUT_DIR" != "$tmp" ]] && log "JSON report in $OUT_DIR"
	exit "$status"
fi

# --- InfluxDB ---------------------------------------------------------
if ! command -v influxd >/dev/null; then
	log "influxd not found: installing Debian's influxdb"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Keep the package's own service from starting; we run our own.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends influxdb >/dev/null || { rm -f /usr/sbin/policy-rc.d; die "apt-get install influxdb failed"; }
	rm -f /usr/sbin/policy-rc.d
fi
iport="$(free_port)"
rport="$(free_port)"
idir="$tmp/influxd"
mkdir -p "$idir"
# Default settings except: everything under the temp dir, loopback only,
# no usage reporting, and the per-request HTTP access log, the query log
# and the _internal monitor store off (Kodo logs none of these by default,
# so both servers do the same work per write).
cat >"$idir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"

[meta]
  dir = "$idir/meta"

[data]
  dir = "$idir/data"
  wal-dir = "$idir/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$iport"
  log-enabled = false
CONF
log "starting influxd on 127.0.0.1:$iport ($(influxd version 2>/dev/null | head -n1))"
influxd -config "$idir/influxdb.conf" >"$idir/influxd.log" 2>&1 </dev/null &
ipid=$!
pids+=("$ipid")
wait_http "$iport" /ping "$ipid" "$idir/influxd.log"
log "influxd pid $ipid; running kodo-bench"
echo
echo "### InfluxDB (influxd)"
bench influxd -target influxdb -url "http://127.0.0.1:$iport" -server-pid "$ipid" || { status=1; log "influxd run failed"; }
stop_pid "$ipid"

# --- Side by side -----------------------------------------------------
echo
echo "### Kodo vs influxd (DURATION=$DURATION CONCURRENCY=$CONCURRENCY WORKSPACES=$WORKSPACES SERIES=$SERIES LINES=$LINES MIX=$MIX)"
if [[ -s "$OUT_DIR/kodo.json" && -s "$OUT_DIR/influxd.json" ]]; then
	"$tmp/kodo-bench" compare -markdown "$OUT_DIR/kodo.json" "$OUT_DIR/influxd.json" || status=1
else
	log "a run produced no report; nothing to compare"
	status=1
fi
[[ "$OUT_DIR" != "$tmp" ]] && log "JSON reports in $OUT_DIR"
exit "$status"
