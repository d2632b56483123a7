#!/usr/bin/env bash
# Kodo compatibility check with Debian's influx CLI (influxdb-client 1.6):
# -import, -execute, and the json, csv and column formats. Run by
# cmd/kodo's TestCompatClients against the built binary with KODO_HOST,
# KODO_PORT, KODO_DB and KODO_TOKEN set. Exits non-zero on the first
# failed check, printing what came back.
set -euo pipefail

: "${KODO_HOST:?}" "${KODO_PORT:?}" "${KODO_DB:?}" "${KODO_TOKEN:?}"
tmp="$(mktemp -d)"
trap 'rm -rf -- "$tmp"' EXIT

cli() {
	influx -host "$KODO_HOST" -port "$KODO_PORT" -username cli -password "$KODO_TOKEN" \
		-database "$KODO_DB" "$@"
}

# expect NAME WANT GOT: GOT must equal WANT exactly.
expect() {
	if [[ "$3" != "$2" ]]; then
		printf 'influx CLI check %s FAILED\n--- want\n%s\n--- got\n%s\n' "$1" "$2" "$3" >&2
		exit 1
	fi
}

# -import: DDL (CREATE DATABASE of the own database is a no-op) then DML
# into a named RP, with second precision.
now=$(($(date +%s) - 120))
cat >"$tmp/import.txt" <<IMPORT
# DDL
CREATE DATABASE $KODO_DB

# DML
# CONTEXT-DATABASE: $KODO_DB
# CONTEXT-RETENTION-POLICY: autogen
cpu,host=a usage=1.5,n=1i $now
cpu,host=b usage=2,n=2i $now
cpu,host=a usage=3.25,n=3i $((now + 60))
IMPORT
out="$(cli -import -path "$tmp/import.txt" -precision s 2>&1)"
grep -q 'Processed 3 inserts' <<<"$out" || { echo "import: $out" >&2; exit 1; }
grep -q 'Failed 0 inserts' <<<"$out" || { echo "import: $out" >&2; exit 1; }

# -execute in each format.
expect "column" "name: cpu
time       host usage
----       ---- -----
$now a    1.5
$now b    2
$((now + 60)) a    3.25" \
	"$(cli -precision s -format column -execute 'SELECT host, usage FROM autogen.cpu')"

expect "csv" "name,time,host,usage
cpu,$now,a,1.5
cpu,$now,b,2
cpu,$((now + 60)),a,3.25" \
	"$(cli -precision s -format csv -execute 'SELECT host, usage FROM autogen.cpu')"

expect "json" "{\"results\":[{\"series\":[{\"name\":\"cpu\",\"columns\":[\"time\",\"sum\"],\"values\":[[0,6.75]]}]}]}" \
	"$(cli -precision s -format json -execute 'SELECT sum(usage) FROM autogen.cpu')"

# SHOW statements, several at once, SHOW DATABASES among them.
expect "show" "name,name
databases,$KODO_DB
name,key,value
cpu,host,a
cpu,host,b" \
	"$(cli -format csv -execute "SHOW DATABASES; SHOW TAG VALUES FROM autogen.cpu WITH KEY = host")"

# INSERT through the CLI (the default RP), then read it back.
cli -execute "INSERT cpu,host=c usage=9" >/dev/null
expect "insert" "name,time,count
cpu,0,1" "$(cli -precision s -format csv -execute "SELECT count(usage) FROM cpu WHERE host = 'c'")"

# A retention policy made with InfluxQL takes writes at once.
cli -execute "CREATE RETENTION POLICY clicompat ON \"$KODO_DB\" DURATION 2h REPLICATION 1" >/dev/null
cli -execute "INSERT INTO clicompat mem used=42" >/dev/null
expect "rp" "name,time,used
mem,0,42" "$(cli -precision s -format csv -execute 'SELECT used FROM clicompat.mem' | sed 's/^mem,[0-9]*,/mem,0,/')"
cli -execute "DROP RETENTION POLICY clicompat ON \"$KODO_DB\"" >/dev/null

# Errors read as influxd's.
if out="$(cli -execute 'SELECT mean(usage FROM cpu' 2>&1)"; then
	echo "a parse error exited 0: $out" >&2
	exit 1
fi
grep -q 'error parsing query: found FROM, expected ) at line 1, char 19' <<<"$out" || { echo "parse error: $out" >&2; exit 1; }
echo "influx CLI: all checks passed"
