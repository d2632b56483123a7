#!/usr/bin/env bash
# Start or stop a throwaway ClickHouse server (Debian's `clickhouse-server`
# package, 18.16) for the storage/clickhouse integration tests.
#
#   .ci/clickhouse.sh start   # prints KODO_TEST_CLICKHOUSE_DSN=clickhouse://127.0.0.1:19000/default
#   .ci/clickhouse.sh stop
#   eval "$(.ci/clickhouse.sh start)" && export KODO_TEST_CLICKHOUSE_DSN
#
# Prerequisite: apt-get install -y clickhouse-server clickhouse-client
#
# Everything (config.xml, users.xml, data, tmp, logs, pid) lives in one temp
# dir that `stop` removes. The server runs as a plain background process
# (no systemd in CI containers), listens on 127.0.0.1 only, and has no
# interserver port. Environment:
#   KODO_CLICKHOUSE_TCP_PORT   native port (default 19000); the DSN uses it
#   KODO_CLICKHOUSE_HTTP_PORT  HTTP port (default 18123); used only to wait for readiness
#   KODO_CLICKHOUSE_STATE      file remembering the pid and dir (default /tmp/kodo-clickhouse.state)
#   KODO_CLICKHOUSE_EXTRA      XML added to config.xml (.ci/clickhouse-cluster.sh puts
#                              ZooKeeper, macros, remote_servers and the interserver port here)
set -euo pipefail

tcp_port="${KODO_CLICKHOUSE_TCP_PORT:-19000}"
http_port="${KODO_CLICKHOUSE_HTTP_PORT:-18123}"
state="${KODO_CLICKHOUSE_STATE:-${TMPDIR:-/tmp}/kodo-clickhouse.state}"

script=clickhouse.sh
what=clickhouse-server
# shellcheck source=service.sh
source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

# server_cmd prints the command that runs the server: Debian ships
# /usr/sbin/clickhouse-server, upstream packages a multi-call `clickhouse`.
server_cmd() {
	if command -v clickhouse-server >/dev/null; then
		command -v clickhouse-server
	elif [[ -x /usr/sbin/clickhouse-server ]]; then
		echo /usr/sbin/clickhouse-server
	elif [[ -x /usr/bin/clickhouse-server ]]; then
		echo /usr/bin/clickhouse-server
	elif command -v clickhouse >/dev/null; then
		echo "$(command -v clickhouse) server"
	else
		return 1
	fi
}

# ready succeeds when the server answers a query. The HTTP interface of
# 18.16 answers "Ok." on / once the server accepts queries; the client is
# used where curl is missing.
ready() {
	if command -v curl >/dev/null; then
		[[ "$(curl -fsS "http://127.0.0.1:$http_port/?query=SELECT%201" 2>/dev/null)" == 1 ]]
		return
	fi
	if command -v clickhouse-client >/dev/null; then
		[[ "$(clickhouse-client --host 127.0.0.1 --port "$tcp_port" --query 'SELECT 1' 2>/dev/null)" == 1 ]]
		return
	fi
	http_answers "$http_port" "/?query=SELECT%201" 200
}

start() {
	local cmd
	cmd="$(server_cmd)" || die "clickhouse-server not found: apt-get install -y clickhouse-server clickhouse-client"
	clear_stale
	port_busy "$tcp_port" && die "port 127.0.0.1:$tcp_port is in use; set KODO_CLICKHOUSE_TCP_PORT"
	port_busy "$http_port" && die "port 127.0.0.1:$http_port is in use; set KODO_CLICKHOUSE_HTTP_PORT"

	dir="$(mktemp -d "${TMPDIR:-/tmp}/kodo-clickhouse.XXXXXX")"
	mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas" "$dir/log"
	cat >"$dir/config.xml" <<CONF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>$dir/log/clickhouse-server.log</log>
        <errorlog>$dir/log/clickhouse-server.err.log</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <http_port>$http_port</http_port>
    <tcp_port>$tcp_port</tcp_port>
    <max_connections>256</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>$dir/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
    <dictionaries_config>$dir/*_dictionary.xml</dictionaries_config>
${KODO_CLICKHOUSE_EXTRA:-}
</yandex>
CONF
	cat >"$dir/users.xml" <<'USERS'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>2000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>127.0.0.1</ip>
                <ip>::1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
USERS

	# shellcheck disable=SC2086 # $cmd may be "clickhouse server"
	launch "$dir/log/stdout.log" $cmd --config-file="$dir/config.xml"
	await 120 ready "KODO_TEST_CLICKHOUSE_DSN=clickhouse://127.0.0.1:$tcp_port/default" \
		"$dir/log/stdout.log" "$dir/log/clickhouse-server.err.log"
}

main "$@"
