#!/usr/bin/env bash
# Paired service benchmark of two builds on one machine: the same seeded database, the
# same load tool, the builds taking turns (A B A B), so the machine's slow and fast phases
# fall on both. Compare ratios within one run, not figures across days (docs/benchmarks.md).
#
#   scripts/bench-pair.sh OLD_BIN NEW_BIN sqlite
#   scripts/bench-pair.sh OLD_BIN NEW_BIN postgres postgres://postgres@127.0.0.1:5432/test
#
# OLD_BIN, NEW_BIN: `passgenau` release binaries (e.g. of a `git worktree` of the base
# commit). LOAD_BIN (default target/release/passgenau-load) drives both. The database is
# seeded once by OLD_BIN (CUSTOMERS, default 100,000), so both run on the same schema.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?old binary}
new=${2:?new binary}
backend=${3:-sqlite}
customers=${CUSTOMERS:-100000}
seconds=${SECONDS_PER_RUN:-6}
rounds=${ROUNDS:-2}
# "scenario clients" pairs, separated by ';'
scenarios=${SCENARIOS:-customers 1;recommendations 64;availability 8;placements 64}
load=${LOAD_BIN:-target/release/passgenau-load}
port=18091
mkdir -p target/bench
if [ "$backend" = postgres ]; then
  admin=${4:?admin URL}
  psql "$admin" -qc "DROP DATABASE IF EXISTS passgenau_pair WITH (FORCE)" -c "CREATE DATABASE passgenau_pair"
  url="${admin%/*}/passgenau_pair"
else
  rm -f target/bench/pair.db*
  url=target/bench/pair.db
fi
seed_out=$("$old" --database-url "$url" seed demo --customers "$customers" 2>/dev/null)
echo "$seed_out" | head -1
export PASSGENAU_LOAD_PASSWORD=$(echo "$seed_out" | awk '$1 == "admin" {print $3}')
# the seed as it is on disk, WAL included, for each run to start from
if [ "$backend" = sqlite ]; then
  rm -rf target/bench/pair.seed && mkdir -p target/bench/pair.seed
  cp target/bench/pair.db* target/bench/pair.seed/
fi

one() { # binary label
  local bin=$1 label=$2
  if [ "$backend" = sqlite ]; then
    rm -f target/bench/pair.db*
    cp target/bench/pair.seed/* target/bench/
  fi
  PASSGENAU_LOG=warn "$bin" --database-url "$url" serve --bind 127.0.0.1:$port &
  local pid=$!
  for _ in $(seq 100); do
    curl -sf "127.0.0.1:$port/healthz" >/dev/null && break
    sleep 0.1
  done
  local IFS_SAVED=$IFS
  IFS=';'
  local list=($scenarios)
  IFS=$IFS_SAVED
  for scenario in "${list[@]}"; do
    set -- $scenario
    printf '%-4s %-16s %3s clients: ' "$label" "$1" "$2"
    "$load" --addr 127.0.0.1:$port --scenario "$1" --concurrency "$2" --seconds "$seconds" | sed -n 1p
  done
  kill $pid
  wait $pid 2>/dev/null || true
}

for r in $(seq "$rounds"); do
  echo "== round $r"
  one "$old" old
  one "$new" new
done
