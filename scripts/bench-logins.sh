#!/usr/bin/env bash
# A flood of correct logins (issue #17): 64 clients log in back to back with correct
# passwords of 64 accounts for 15 s while 4 other clients read availability. Prints each
# build's login and availability figures and the server's peak resident memory (VmHWM).
#
#   scripts/bench-logins.sh BIN [BIN …]     (release binaries; LOAD_BIN drives them)
set -euo pipefail
cd "$(dirname "$0")/.."
load=${LOAD_BIN:-target/release/passgenau-load}
seconds=${SECONDS_PER_RUN:-15}
port=18092
mkdir -p target/bench
for bin in "$@"; do
  rm -f target/bench/logins.db*
  seed_out=$("$bin" --database-url target/bench/logins.db seed demo --customers 1000 2>/dev/null)
  export PASSGENAU_LOAD_PASSWORD=$(echo "$seed_out" | awk '$1 == "admin" {print $3}')
  PASSGENAU_LOG=error "$bin" --database-url target/bench/logins.db serve --bind 127.0.0.1:$port &
  pid=$!
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  before=$(awk '/VmRSS/ {print int($2/1024)}' /proc/$pid/status)
  out=$("$load" --addr 127.0.0.1:$port --scenario logins --concurrency 68 --login-users 64 \
    --seconds "$seconds" | sed -n 2p)
  peak=$(awk '/VmHWM/ {print int($2/1024)}' /proc/$pid/status)
  kill $pid
  wait $pid 2>/dev/null || true
  echo "$bin: rss before ${before} MB, peak ${peak} MB"
  echo "$out" | python3 -c '
import sys, json
o = json.load(sys.stdin)
for k in ("logins", "availability"):
    v = o[k]
    print("  %-12s %7d requests, %6d req/s, p50 %8.2f ms, p99 %8.2f ms" % (k, v["requests"], v["rps"], v["p50_ms"], v["p99_ms"]))
print("  statuses", o["statuses"])'
done
