#!/usr/bin/env bash
# Start or stop a throwaway influxd (Debian's `influxdb` package) for the
# remote tsengine tests.
#
#   .ci/influxd.sh start   # prints KODO_TEST_INFLUX_URL=http://127.0.0.1:18086
#   .ci/influxd.sh stop
#   eval "$(.ci/influxd.sh start)" && export KODO_TEST_INFLUX_URL
#
# Everything (config, meta, data, wal, log, pid) lives in one temp dir that
# `stop` removes. influxd binds 127.0.0.1 only. Environment:
#   KODO_INFLUXD_PORT   HTTP port (default 18086; the RPC port is 18088)
#   KODO_INFLUXD_STATE  file remembering the pid and dir (default /tmp/kodo-influxd.state)
set -euo pipefail

port="${KODO_INFLUXD_PORT:-18086}"
rpc_port="${KODO_INFLUXD_RPC_PORT:-18088}"
state="${KODO_INFLUXD_STATE:-${TMPDIR:-/tmp}/kodo-influxd.state}"

die() { echo "influxd.sh: $*" >&2; exit 1; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ping succeeds when influxd answers /ping with 204 (curl, or bash's
# /dev/tcp where curl is missing).
ping() {
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null "http://127.0.0.1:$port/ping" 2>/dev/null
		return
	fi
	(
		exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
		printf 'GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		read -r -t 2 _ code _ <&3 && [[ "$code" == 204 ]]
	) 2>/dev/null
}

start() {
	command -v influxd >/dev/null || die "influxd not found: apt-get install -y influxdb influxdb-client"
	if [[ -f "$state" ]]; then
		# shellcheck disable=SC1090
		source "$state"
		if kill -0 "$pid" 2>/dev/null; then
			die "influxd already running (pid $pid, $dir); run '$0 stop' first"
		fi
		rm -f "$state"
	fi
	port_busy "$port" && die "port 127.0.0.1:$port is in use; set KODO_INFLUXD_PORT"
	port_busy "$rpc_port" && die "port 127.0.0.1:$rpc_port is in use; set KODO_INFLUXD_RPC_PORT"

	dir="$(mktemp -d "${TMPDIR:-/tmp}/kodo-influxd.XXXXXX")"
	cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"

[meta]
  dir = "$dir/meta"

[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  wal-fsync-delay = "0s"
  query-log-enabled = false

[coordinator]
  write-timeout = "10s"

[retention]
  enabled = true
  check-interval = "30m"

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$port"
  auth-enabled = false
  log-enabled = false
  flux-enabled = false

[continuous_queries]
  enabled = true
  log-enabled = false
  run-interval = "1s"

[[graphite]]
  enabled = false
[[collectd]]
  enabled = false
[[opentsdb]]
  enabled = false
[[udp]]
  enabled = false
CONF
	# A plain background process: no systemd in CI containers.
	nohup influxd -config "$dir/influxdb.conf" >"$dir/influxd.log" 2>&1 </dev/null &
	pid=$!
	printf 'pid=%q\ndir=%q\n' "$pid" "$dir" >"$state"

	for _ in $(seq 1 80); do # up to 20 s
		if ping; then
			echo "KODO_TEST_INFLUX_URL=http://127.0.0.1:$port"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$dir/influxd.log" >&2; rm -f "$state"; die "influxd exited during start"; }
		sleep 0.25
	done
	tail -n 20 "$dir/influxd.log" >&2
	stop
	die "influxd did not answer /ping on 127.0.0.1:$port within 20s"
}

stop() {
	[[ -f "$state" ]] || { echo "influxd.sh: not running (no $state)" >&2; return 0; }
	# shellcheck disable=SC1090
	source "$state"
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 40); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -rf -- "$dir"
	rm -f "$state"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
