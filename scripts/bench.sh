#!/usr/bin/env bash
# Benchmarks of the running service (not part of the test command). Usage:
#   scripts/bench.sh sqlite            # SQLite file under target/bench
#   scripts/bench.sh postgres URL      # an admin URL; a database passgenau_bench is (re)created
# Prints the figures recorded in docs/benchmarks.md. Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
customers=${CUSTOMERS:-100000}
seconds=${SECONDS_PER_RUN:-10}
cargo build --release --locked -p passgenau -p passgenau-load >/dev/null
bin=target/release/passgenau
load=target/release/passgenau-load
mkdir -p target/bench
if [ "$backend" = postgres ]; then
  admin=${2:?admin URL}
  psql "$admin" -qc "DROP DATABASE IF EXISTS passgenau_bench WITH (FORCE)" -c "CREATE DATABASE passgenau_bench"
  url="${admin%/*}/passgenau_bench"
else
  rm -f target/bench/bench.db*
  url=target/bench/bench.db
fi
seed_out=$("$bin" --database-url "$url" seed demo --customers "$customers" 2>/dev/null)
echo "$seed_out" | head -1
export PASSGENAU_LOAD_PASSWORD=$(echo "$seed_out" | awk '$1 == "admin" {print $3}')
port=18090
PASSGENAU_LOG=warn "$bin" --database-url "$url" serve --bind 127.0.0.1:$port &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
# wait until it answers (a fixed sleep was too short on a slow day)
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
run() { "$load" --addr 127.0.0.1:$port "$@" | sed -n 1p; }
rss() { echo "server resident memory: $(awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$pid/status)"; }

echo "== list 500 of $customers customers, one client (server time ≈ latency on loopback)"
run --scenario customers --concurrency 1 --seconds "$seconds"
rss
echo "== reports (year 2021), one client"
run --scenario reports --concurrency 1 --seconds "$seconds"
echo "== recommendations: 2,000 open offers, 64 clients"
open=$(curl -s -H "authorization: Bearer $(curl -s -X POST 127.0.0.1:$port/api/v1/auth/login -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$PASSGENAU_LOAD_PASSWORD\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')" "127.0.0.1:$port/api/v1/offers?status=open&limit=500" | python3 -c 'import sys,json;print(len(json.load(sys.stdin)["items"]))')
run --scenario recommendations --concurrency 1 --seconds "$seconds" --setup-offers $((2000 - open))
run --scenario recommendations --concurrency 64 --seconds "$seconds"
echo "== recommendations, open loop: 64 clients at a fixed total rate (latency from when each request was due)"
for rate in ${RATES:-1000 2500}; do
  run --scenario recommendations --concurrency 64 --seconds "$seconds" --rate "$rate"
done
echo "== availability vs. /healthz alternating each second, 64 clients"
"$load" --addr 127.0.0.1:$port --scenario compare --concurrency 64 --seconds "$seconds" | tail -1 | python3 -c '
import sys, json
d = json.load(sys.stdin); h = d["healthz"]; a = d["availability"]
print("healthz %s req/s p99 %s ms; availability %s req/s p99 %s ms; ratio %.2f" % (h["rps"], h["p99_ms"], a["rps"], a["p99_ms"], a["rps"] / h["rps"]))'
echo "== availability for 8 clients while 8 others send hostile bodies (413/400 expected)"
run --scenario availability --concurrency 8 --seconds "$seconds"
"$load" --addr 127.0.0.1:$port --scenario hostile --concurrency 16 --seconds "$seconds" | tail -1 | python3 -c '
import sys, json
d = json.load(sys.stdin); a = d["availability"]; h = d["hostile"]
print("under hostile load: availability %s req/s p50 %s ms p99 %s ms; hostile %s req/s; statuses %s" % (a["rps"], a["p50_ms"], a["p99_ms"], h["rps"], d["statuses"]))'
echo "== placements, 64 clients (201 placed, 409 refused: both are complete transactions)"
run --scenario placements --concurrency 64 --seconds "$seconds"
rss
