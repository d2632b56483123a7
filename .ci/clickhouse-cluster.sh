#!/usr/bin/env bash
# Start or stop a ClickHouse cluster on loopback for the -clickhouse-cluster
# path: Debian's zookeeper (3.8) and two clickhouse-server (18.16) replicas
# of one shard, cluster "kodo".
#
#   .ci/clickhouse-cluster.sh start   # prints KODO_TEST_CLICKHOUSE_CLUSTER_DSNS=dsn1,dsn2
#   .ci/clickhouse-cluster.sh stop
#
# Prerequisite: apt-get install -y zookeeper clickhouse-server clickhouse-client
# Ports (loopback): ZooKeeper 12181; replicas' native 19101/19102, HTTP
# 18201/18202, interserver 19201/19202. Everything lives in temp dirs that
# `stop` removes; processes are stopped by the PIDs this script recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
state="${TMPDIR:-/tmp}/kodo-clickhouse-cluster.state"
zk_port=12181

die() { echo "clickhouse-cluster.sh: $*" >&2; exit 1; }

start() {
	[[ -f "$state" ]] && die "already running ($state); run '$0 stop' first"
	command -v java >/dev/null || die "java not found (ZooKeeper runs on it)"
	[[ -f /usr/share/java/zookeeper.jar ]] || die "zookeeper not installed: apt-get install -y zookeeper"
	zkdir="$(mktemp -d "${TMPDIR:-/tmp}/kodo-zk.XXXXXX")"
	cat >"$zkdir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$zkdir/data
clientPort=$zk_port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
CFG
	nohup java -cp "/usr/share/java/zookeeper.jar:/usr/share/java/*" \
		org.apache.zookeeper.server.quorum.QuorumPeerMain "$zkdir/zoo.cfg" >"$zkdir/zk.log" 2>&1 </dev/null &
	zkpid=$!
	printf 'zkpid=%q\nzkdir=%q\n' "$zkpid" "$zkdir" >"$state"
	for _ in $(seq 1 120); do
		(exec 3<>"/dev/tcp/127.0.0.1/$zk_port") 2>/dev/null && break
		kill -0 "$zkpid" 2>/dev/null || { tail -n 20 "$zkdir/zk.log" >&2; stop; die "zookeeper exited during start"; }
		sleep 0.25
	done
	dsns=()
	for r in 1 2; do
		extra="<interserver_http_port>1920$r</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <zookeeper><node><host>127.0.0.1</host><port>$zk_port</port></node></zookeeper>
    <macros><shard>01</shard><replica>r$r</replica></macros>
    <remote_servers><kodo><shard><internal_replication>true</internal_replication>
      <replica><host>127.0.0.1</host><port>19101</port></replica>
      <replica><host>127.0.0.1</host><port>19102</port></replica>
    </shard></kodo></remote_servers>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>"
		out="$(KODO_CLICKHOUSE_TCP_PORT=1910$r KODO_CLICKHOUSE_HTTP_PORT=1820$r \
			KODO_CLICKHOUSE_STATE="$state.r$r" KODO_CLICKHOUSE_EXTRA="$extra" bash .ci/clickhouse.sh start)" || { stop; die "replica $r did not start"; }
		dsns+=("$(grep '^KODO_TEST_CLICKHOUSE_DSN=' <<<"$out" | cut -d= -f2-)")
	done
	echo "KODO_TEST_CLICKHOUSE_CLUSTER_DSNS=${dsns[0]},${dsns[1]}"
}

stop() {
	for r in 1 2; do
		[[ -f "$state.r$r" ]] && KODO_CLICKHOUSE_STATE="$state.r$r" bash .ci/clickhouse.sh stop || true
	done
	[[ -f "$state" ]] || return 0
	# shellcheck disable=SC1090
	source "$state"
	if kill -0 "$zkpid" 2>/dev/null; then
		kill "$zkpid"
		for _ in $(seq 1 60); do kill -0 "$zkpid" 2>/dev/null || break; sleep 0.25; done
		kill -0 "$zkpid" 2>/dev/null && kill -9 "$zkpid"
	fi
	rm -rf -- "$zkdir"
	rm -f "$state"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) die "usage: $0 start|stop" ;;
esac
