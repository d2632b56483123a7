#!/usr/bin/env bash
# Kodo vs InfluxDB 1.x vs VictoriaMetrics, same bodies, same machine.
#
# Builds ./cmd/kodo, ./cmd/kodo-bench and ./cmd/kodo-plainload, then, one
# server at a time (each started by this script on a free loopback port
# with a temp data dir, and stopped by its PID), runs kodo-bench against:
#   1. Kodo, DATAFLUX-signed /v1/write/metrics        (report kodo.json)
#   2. Kodo, InfluxDB-style /write with the token     (kodo-influx.json)
#   3. Debian's influxd, /write                        (influxd.json)
#   4. Debian's VictoriaMetrics, /write, writes only   (vm.json)
# then, with PLAIN=1 (the default), a second, minimal loader
# (kodo-plainload) posts the same pre-generated gzipped bodies
# (kodo-bench gen) to a fresh Kodo /write, influxd and VictoriaMetrics, so
# the figure does not rest on one tool. It ends with a table of write
# points/s per target and loader and the ratio lines Kodo/influxd and
# Kodo/VictoriaMetrics. Kodo and influxd acknowledge a write after its
# fsync; VictoriaMetrics before (it flushes about every second).
#
#   scripts/bench-compare.sh
#   DURATION=30s CONCURRENCY=4 OUT_DIR=/tmp/kb/cmp scripts/bench-compare.sh
#
# Environment (defaults in brackets):
#   DURATION     time bound of each run [20s]
#   CONCURRENCY  concurrent clients [4]
#   WORKSPACES   workspaces / databases [4]
#   SERIES       series per workspace [10]
#   LINES        lines per body [5000]
#   MIX          kodo-bench operation weights [write=1]; with queries
#                (e.g. write=9,query=1) VictoriaMetrics still runs writes
#                only, so its row is not comparable
#   RATE_HINT    points/s the pre-generated bodies are sized for [800000,
#                VictoriaMetrics writes ~550k on this machine];
#                a run that uses them up stops early and says so
#   BENCH_ARGS   more kodo-bench flags, e.g. "-tags host,az -fields a,b"
#   KODO_ARGS    more kodo flags, e.g. "-clickhouse-dsn clickhouse://127.0.0.1:19000/default"
#   INFLUX_INDEX influxd's index-version, e.g. tsi1 (Kodo's) [influxd's
#                default: inmem in Debian's 1.6.7]
#   SKIP_INFLUX=1  no influxd;  SKIP_VM=1  no VictoriaMetrics
#   SKIP_KODO_INFLUX=1  no Kodo /write run with kodo-bench
#   PLAIN=0      no kodo-plainload runs
#   KODO_PLAIN=1 also run the current Kodo without KODO_ARGS (e.g. the
#                cost of -clickhouse-dsn, in the same run)
#   KODO_BEFORE  a git revision: build its ./cmd/kodo too, run it right
#                after the current one with the same load, and print the
#                two side by side (the cost of a change, in one run)
#   ROUNDS       repeat the whole sequence this many times (fresh servers
#                each time) and report the median per target [1]: on a
#                shared machine, rounds spread the others' load over
#                every target (KODO_PLAIN and KODO_BEFORE run in round 1)
#   OUT_DIR      where the JSON reports go [the temp dir]
#   KEEP=1       keep the temp dir (data, logs, reports)
#
# influxd (package influxdb) and victoria-metrics are installed with
# apt-get when missing (as root).
#
# Exit status: 0 when every run finished without errors or loss, else 1.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-20s}"
CONCURRENCY="${CONCURRENCY:-4}"
WORKSPACES="${WORKSPACES:-4}"
SERIES="${SERIES:-10}"
LINES="${LINES:-5000}"
MIX="${MIX:-write=1}"
RATE_HINT="${RATE_HINT:-800000}"
BENCH_ARGS="${BENCH_ARGS:-}"
KEEP="${KEEP:-0}"
ROUNDS="${ROUNDS:-1}"
sfx="" # report and data-dir suffix of the current round: "" in round 1, ".rN" after

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

log "building ./cmd/kodo, ./cmd/kodo-bench and ./cmd/kodo-plainload"
go build -o "$tmp/kodo" ./cmd/kodo
go build -o "$tmp/kodo-bench" ./cmd/kodo-bench
go build -o "$tmp/kodo-plainload" ./cmd/kodo-plainload

status=0
summary="$tmp/summary.txt" # lines: LOADER TARGET POINTS_PER_SEC
: >"$summary"

# pps FILE: the write points/s of a kodo-bench or kodo-plainload report.
pps() { sed -n 's/^ *"points_per_sec": *\([0-9.e+-]*\),*$/\1/p' "$1" | head -n1; }

# cpu_us FILE: a kodo-bench report's server CPU per acknowledged point in
# microseconds, or "-" (no -server-pid, or a loader that does not take it).
cpu_us() {
	local c n
	c="$(sed -n 's/^ *"cpu_seconds": *\([0-9.e+-]*\),*$/\1/p' "$1" | head -n1)"
	n="$(sed -n 's/^ *"points_acked": *\([0-9]*\),*$/\1/p' "$1" | head -n1)"
	if [[ -n "$c" && -n "$n" && "$n" != 0 ]]; then awk -v c="$c" -v n="$n" 'BEGIN { printf "%.2f", c * 1e6 / n }'; else echo -; fi
}

# record LOADER TARGET FILE: adds a report's points/s and server CPU per
# point to the summary.
record() { [[ -s "$3" ]] && printf '%s %s %s %s\n' "$1" "$2" "$(pps "$3")" "$(cpu_us "$3")" >>"$summary"; return 0; }

# apt_install PACKAGE: Debian's package, its own service kept from starting.
apt_install() {
	log "$1 not found: installing Debian's $1"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends "$1" >/dev/null || { rm -f /usr/sbin/policy-rc.d; die "apt-get install $1 failed"; }
	rm -f /usr/sbin/policy-rc.d
}

# Each start_* sets port and pid (and pids for the cleanup).
port="" pid=""

# start_kodo NAME BINARY [FLAGS...]
start_kodo() {
	local name="$1" bin="$2"
	shift 2
	port="$(free_port)"
	log "starting $name on 127.0.0.1:$port (data $tmp/$name-data)"
	"$bin" -listen "127.0.0.1:$port" -data "$tmp/$name-data" -log-level info "$@" \
		>"$tmp/$name.log" 2>&1 </dev/null &
	pid=$!
	pids+=("$pid")
	wait_http "$port" /v1/ping "$pid" "$tmp/$name.log"
}

# start_influxd NAME: default settings except: everything under the temp
# dir, loopback only, no usage reporting, and the per-request HTTP access
# log, the query log and the _internal monitor store off (Kodo logs none
# of these by default, so both servers do the same work per write).
start_influxd() {
	local name="$1" rport idir
	command -v influxd >/dev/null || apt_install influxdb
	port="$(free_port)"
	rport="$(free_port)"
	idir="$tmp/$name"
	mkdir -p "$idir"
	cat >"$idir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"

[meta]
  dir = "$idir/meta"

[data]
  dir = "$idir/data"
  wal-dir = "$idir/wal"
  query-log-enabled = false
${INFLUX_INDEX:+  index-version = \"$INFLUX_INDEX\"}

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$port"
  log-enabled = false
CONF
	log "starting $name on 127.0.0.1:$port ($(influxd version 2>/dev/null | head -n1))"
	influxd -config "$idir/influxdb.conf" >"$idir/influxd.log" 2>&1 </dev/null &
	pid=$!
	pids+=("$pid")
	wait_http "$port" /ping "$pid" "$idir/influxd.log"
}

# start_vm NAME: Debian's single-node VictoriaMetrics with its defaults
# (it acknowledges before fsync), data under the temp dir, loopback only.
start_vm() {
	local name="$1"
	command -v victoria-metrics >/dev/null || apt_install victoria-metrics
	port="$(free_port)"
	mkdir -p "$tmp/$name"
	log "starting $name on 127.0.0.1:$port (victoria-metrics $(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo '?'))"
	victoria-metrics -storageDataPath "$tmp/$name/data" -httpListenAddr "127.0.0.1:$port" \
		-loggerLevel ERROR >"$tmp/$name/vm.log" 2>&1 </dev/null &
	pid=$!
	pids+=("$pid")
	wait_http "$port" /health "$pid" "$tmp/$name/vm.log"
}

# run_bench NAME TITLE TARGET [KODO-BENCH FLAGS...]: kodo-bench against
# the server just started (port, pid), report NAME.json; then stops it.
run_bench() {
	local name="$1" title="$2" target="$3"
	shift 3
	log "$name$sfx pid $pid; running kodo-bench"
	echo
	echo "### $title${sfx:+ (round ${sfx#.r})}"
	bench "$name$sfx" -target "$target" -url "http://127.0.0.1:$port" -server-pid "$pid" "$@" || { status=1; log "$name$sfx run failed"; }
	stop_pid "$pid"
	record kodo-bench "$name" "$OUT_DIR/$name$sfx.json"
}

# run_kodo NAME TITLE BINARY [FLAGS...]: a Kodo binary under kodo-bench's
# signed /v1/write/metrics load.
run_kodo() {
	local name="$1" title="$2" bin="$3"
	shift 3
	start_kodo "$name$sfx" "$bin" "$@"
	run_bench "$name" "$title" kodo
}

# The same bodies for every kodo-plainload run (PLAIN).
if [[ "${PLAIN:-1}" == 1 ]]; then
	"$tmp/kodo-bench" gen -dir "$tmp/bodies" -duration "$DURATION" -rate-hint "$RATE_HINT" \
		-workspaces "$WORKSPACES" -series "$SERIES" -lines "$LINES"
fi
plain() { # plain NAME KIND: kodo-plainload against the server just started
	local name="$1" kind="$2"
	echo
	echo "### kodo-plainload: $name${sfx:+ (round ${sfx#.r})}"
	"$tmp/kodo-plainload" -kind "$kind" -name "$name" -url "http://127.0.0.1:$port" -dir "$tmp/bodies" \
		-workspaces "$WORKSPACES" -concurrency "$CONCURRENCY" -duration "$DURATION" \
		-out "$OUT_DIR/plain-$name$sfx.json" || { status=1; log "plain $name$sfx run failed"; }
	stop_pid "$pid"
	record kodo-plainload "$name" "$OUT_DIR/plain-$name$sfx.json"
}

# one_round: every target once, each on a fresh server.
one_round() {
	# shellcheck disable=SC2086 # KODO_ARGS is a list of flags
	run_kodo kodo "Kodo, signed /v1/write/metrics" "$tmp/kodo" ${KODO_ARGS:-}

	if [[ "${SKIP_KODO_INFLUX:-0}" != 1 ]]; then
		# shellcheck disable=SC2086 # KODO_ARGS is a list of flags
		start_kodo "kodo-influx$sfx" "$tmp/kodo" ${KODO_ARGS:-}
		run_bench kodo-influx "Kodo, /write (InfluxDB 1.x API, token)" kodo-influx
	fi

	# --- Kodo without KODO_ARGS (KODO_PLAIN) ---------------------------------
	if [[ "${KODO_PLAIN:-0}" == 1 && -z "$sfx" ]]; then
		run_kodo kodo-plain "Kodo without KODO_ARGS" "$tmp/kodo"
		echo
		echo "### Kodo with KODO_ARGS vs without"
		"$tmp/kodo-bench" compare -markdown "$OUT_DIR/kodo.json" "$OUT_DIR/kodo-plain.json" || status=1
	fi

	# --- Kodo at another revision (KODO_BEFORE) -----------------------------
	if [[ -n "${KODO_BEFORE:-}" && -z "$sfx" ]]; then
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

	# --- InfluxDB and VictoriaMetrics ---------------------------------------
	if [[ "${SKIP_INFLUX:-0}" != 1 ]]; then
		start_influxd "influxd$sfx"
		run_bench influxd "InfluxDB (influxd), /write" influxdb
	fi
	if [[ "${SKIP_VM:-0}" != 1 ]]; then
		start_vm "vm$sfx"
		# Writes only: VictoriaMetrics has no InfluxQL.
		run_bench vm "VictoriaMetrics, /write (acknowledges before fsync)" victoriametrics -mix write=1
	fi

	# --- The same bodies through a second, minimal loader (PLAIN) -------------
	if [[ "${PLAIN:-1}" == 1 ]]; then
		# shellcheck disable=SC2086 # KODO_ARGS is a list of flags
		start_kodo "plain-kodo$sfx" "$tmp/kodo" ${KODO_ARGS:-}
		plain kodo-influx kodo
		if [[ "${SKIP_INFLUX:-0}" != 1 ]]; then
			start_influxd "plain-influxd$sfx"
			plain influxd influxdb
		fi
		if [[ "${SKIP_VM:-0}" != 1 ]]; then
			start_vm "plain-vm$sfx"
			plain vm victoriametrics
		fi
	fi
}

for ((round = 1; round <= ROUNDS; round++)); do
	sfx=""
	((round > 1)) && sfx=".r$round"
	one_round
done

# --- Side by side -----------------------------------------------------
if [[ -s "$OUT_DIR/kodo.json" && -s "$OUT_DIR/influxd.json" ]]; then
	echo
	echo "### Kodo vs influxd (DURATION=$DURATION CONCURRENCY=$CONCURRENCY WORKSPACES=$WORKSPACES SERIES=$SERIES LINES=$LINES MIX=$MIX)"
	"$tmp/kodo-bench" compare -markdown "$OUT_DIR/kodo.json" "$OUT_DIR/influxd.json" || status=1
fi
echo
echo "### Write points/s, median of $ROUNDS round(s) (DURATION=$DURATION CONCURRENCY=$CONCURRENCY WORKSPACES=$WORKSPACES SERIES=$SERIES LINES=$LINES MIX=$MIX)"
echo
echo "| target | kodo-bench | kodo-plainload |"
echo "|---|---|---|"
# get LOADER TARGET: the median write points/s over the rounds.
get() {
	awk -v l="$1" -v t="$2" '$1 == l && $2 == t { print $3 }' "$summary" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# all LOADER TARGET: every round's figure, in round order.
all() { awk -v l="$1" -v t="$2" '$1 == l && $2 == t { printf "%s%.0f", (n++ ? ", " : ""), $3 }' "$summary"; }
for t in kodo kodo-influx influxd vm; do
	a="$(get kodo-bench "$t")" b="$(get kodo-plainload "$t")"
	[[ -z "$a$b" ]] && continue
	((ROUNDS > 1)) && [[ -n "$a" ]] && a="$a ($(all kodo-bench "$t"))"
	((ROUNDS > 1)) && [[ -n "$b" ]] && b="$b ($(all kodo-plainload "$t"))"
	echo "| $t | ${a:--} | ${b:--} |"
done
echo
# Server CPU per acknowledged point (kodo-bench samples the server's
# /proc/PID/stat): steadier than points/s when the loader shares the CPU.
echo "| target | server CPU per point, us (kodo-bench; median; rounds) |"
echo "|---|---|"
for t in kodo kodo-influx influxd vm; do
	c="$(awk -v t="$t" '$1 == "kodo-bench" && $2 == t && $4 != "-" { print $4 }' "$summary" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
	[[ -z "$c" ]] && continue
	r="$(awk -v t="$t" '$1 == "kodo-bench" && $2 == t && $4 != "-" { printf "%s%s", (n++ ? ", " : ""), $4 }' "$summary")"
	echo "| $t | $c ($r) |"
done
echo
# ratio LOADER A B: A/B of write points/s when both ran.
ratio() {
	local a b
	a="$(get "$1" "$2")" b="$(get "$1" "$3")"
	[[ -n "$a" && -n "$b" && "$b" != 0 ]] && awk -v l="$1" -v x="$2" -v y="$3" -v a="$a" -v b="$b" \
		'BEGIN { printf "ratio %s/%s write points/s (%s): %.2f\n", x, y, l, a / b }'
	return 0
}
for l in kodo-bench kodo-plainload; do
	ratio "$l" kodo influxd
	ratio "$l" kodo-influx influxd
	ratio "$l" kodo vm
	ratio "$l" kodo-influx vm
done
[[ "$OUT_DIR" != "$tmp" ]] && log "JSON reports in $OUT_DIR"
exit "$status"
