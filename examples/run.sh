#!/usr/bin/env bash
# Runs every example against a fresh gateway: builds ./cmd/kodo and the
# examples, starts kodo on a free loopback port with a temporary -data dir
# and a Pandora key pair, runs each example (each checks its own results
# and exits non-zero on failure), then stops the gateway by its PID.
#
#   examples/run.sh            # all examples
#   examples/run.sh rewrite-query write-metrics
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

all=(embed-server write-metrics rewrite-query tsdb-quickstart)
if (($#)); then examples=("$@"); else examples=("${all[@]}"); fi

echo "== building kodo and the examples"
go build -o "$work/bin/kodo" ./cmd/kodo
for ex in "${examples[@]}"; do
  go build -o "$work/bin/$ex" "./examples/$ex"
done

ak=example-ak
sk=example-sk-$RANDOM$RANDOM
# Port 0: the kernel picks a free port; the gateway logs the address. The
# log exists before the gateway starts: a background command's redirection
# is opened in the child, which may run after the first read below.
: >"$work/kodo.log"
"$work/bin/kodo" -listen 127.0.0.1:0 -data "$work/data" -tsdb-ak "$ak" -tsdb-sk "$sk" \
  -log-level info 2>"$work/kodo.log" &
pid=$!

addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/.*"msg":"kodo listening".*"addr":"\([^"]*\)".*/\1/p' "$work/kodo.log" | head -n1)
  [[ -n "$addr" ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "kodo exited before listening:" >&2; cat "$work/kodo.log" >&2; exit 1
  fi
  sleep 0.1
done
if [[ -z "$addr" ]]; then
  echo "kodo did not report its address in 30s:" >&2; cat "$work/kodo.log" >&2; exit 1
fi
url="http://$addr"
echo "== kodo (pid $pid) on $url"

failed=()
for ex in "${examples[@]}"; do
  echo "== $ex"
  args=(-url "$url")
  case "$ex" in
    embed-server) args=() ;; # starts its own gateway
    tsdb-quickstart) args+=(-ak "$ak" -sk "$sk") ;;
  esac
  if ! timeout 180 "$work/bin/$ex" "${args[@]}"; then
    failed+=("$ex")
  fi
done

if ((${#failed[@]})); then
  echo "== FAILED: ${failed[*]}" >&2
  echo "== kodo log (last 50 lines):" >&2
  tail -n 50 "$work/kodo.log" >&2
  exit 1
fi
echo "== all examples passed"
