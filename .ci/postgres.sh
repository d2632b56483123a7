#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the meta store tests.
#
#   eval "$(.ci/postgres.sh)"   # start; prints KODO_TEST_POSTGRES_DSN=...
#   .ci/postgres.sh stop        # stop it and delete its files
#
# Needs Debian's `postgresql` package (initdb/pg_ctl under
# /usr/lib/postgresql/*/bin). The cluster is a plain process, not a system
# service: data, socket and log live under $KODO_PG_DIR, it listens on
# 127.0.0.1 only with trust auth, and runs as the `postgres` user when this
# script runs as root (initdb refuses root). Only the DSN line goes to
# stdout; progress goes to stderr.
set -euo pipefail

DIR=${KODO_PG_DIR:-/tmp/kodo-postgres}
PORT=${KODO_PG_PORT:-55432}
DB=kodo_test
DATA=$DIR/data

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[[ -n $BIN && -x $BIN/pg_ctl ]] || die "no /usr/lib/postgresql/*/bin/pg_ctl; run: apt-get install -y postgresql"

# as_pg runs a command as the cluster owner.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

running() { [[ -f $DATA/postmaster.pid ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

stop() {
	if running; then
		log "stopping pid $(head -n 1 "$DATA/postmaster.pid")"
		as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
	fi
	rm -rf "$DIR"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

dsn() { printf 'KODO_TEST_POSTGRES_DSN=postgres://postgres@127.0.0.1:%s/%s?sslmode=disable\n' "$1" "$DB"; }

start() {
	if running; then
		log "already running (pid $(head -n 1 "$DATA/postmaster.pid"))"
		dsn "$(cat "$DIR/port")"
		return
	fi
	rm -rf "$DIR"
	mkdir -p "$DIR"
	chmod 700 "$DIR"
	if [[ $(id -u) -eq 0 ]]; then
		id postgres >/dev/null 2>&1 || die "no postgres user (is the postgresql package installed?)"
		chown postgres: "$DIR"
	fi

	local tries=0
	while port_busy "$PORT"; do
		tries=$((tries + 1))
		((tries < 50)) || die "no free port from ${KODO_PG_PORT:-55432} on"
		PORT=$((PORT + 1))
	done
	echo "$PORT" >"$DIR/port"

	log "initdb $DATA ($BIN)"
	as_pg "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; die "initdb failed"; }

	# fsync off: a throwaway test cluster never needs crash safety, and the
	# tests create and drop many schemas.
	local opts="-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	log "starting on 127.0.0.1:$PORT"
	as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -o "$opts" -w -t 60 start >&2 ||
		{ cat "$DIR/server.log" >&2; die "pg_ctl start failed"; }
	head -n 1 "$DATA/postmaster.pid" >"$DIR/postgres.pid"

	local i
	for ((i = 0; i < 60; i++)); do
		"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres && break
		sleep 0.5
	done
	"$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres || die "server not ready; see $DIR/server.log"
	"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB" >&2
	"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" -Atqc 'SELECT 1' >/dev/null || die "$DB does not answer"
	log "ready (pid $(cat "$DIR/postgres.pid"))"
	dsn "$PORT"
}

case ${1:-start} in
start) start ;;
stop) stop ;;
*) die "usage: $0 [start|stop]" ;;
esac
