#!/usr/bin/env bash
# Runs every fuzz target of the module for a bounded time each
# (FUZZTIME, default 5s). Finds them with `go test -list`, so a new
# target is fuzzed without editing this file.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
n=0
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    echo "fuzz $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.out 2>&1; then
      # The Go fuzzer sometimes ends a run that found nothing with a bare
      # "context deadline exceeded" when -fuzztime expires mid-input; only
      # a written failing input (or a crash) is a finding.
      if grep -q "context deadline exceeded" /tmp/fuzz.out && ! grep -qE "Failing input written|panic:|fatal error" /tmp/fuzz.out; then
        echo "  (fuzzer stopped at the deadline without a finding)"
      else
        cat /tmp/fuzz.out
        exit 1
      fi
    fi
    n=$((n + 1))
  done
done
echo "$n fuzz targets ran for $fuzztime each, no failure"
