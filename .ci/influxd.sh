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

script=influxd.sh
what=influxd
# shellcheck source=service.sh
source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

# ping succeeds when influxd answers /ping with 204 (curl, or bash's
# /dev/tcp where curl is missing).
ping() {
	if command -v curl >/dev/null; then
		curl -fsS -o /dev/null "http://127.0.0.1:$port/ping" 2>/dev/null
		return
	fi
	http_answers "$port" /ping 204
}

start() {
	command -v influxd >/dev/null || die "influxd not found: apt-get install -y influxdb influxdb-client"
	clear_stale
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
	launch "$dir/influxd.log" influxd -config "$dir/influxdb.conf"
	await 80 ping "KODO_TEST_INFLUX_URL=http://127.0.0.1:$port" "$dir/influxd.log"
}

main "$@"
