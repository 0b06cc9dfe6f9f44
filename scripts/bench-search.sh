#!/usr/bin/env bash
# Customer search (issue #18) on a seeded database: 1 and 16 clients send searches back
# to back (spellings, beginnings and sounds of the demo's names, `--scenario search`).
#
#   scripts/bench-search.sh BIN sqlite
#   scripts/bench-search.sh BIN postgres postgres://postgres@127.0.0.1:5432/test
#
# CUSTOMERS (default 200,000, the demo's largest), SECONDS_PER_RUN (default 10).
# IMPORT=FILE: seed a demo of 1,000 (its users and offers), then import FILE (made by
# `passgenau seed export FILE --customers 1000000`) for the population.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?binary}
backend=${2:-sqlite}
customers=${CUSTOMERS:-200000}
seconds=${SECONDS_PER_RUN:-10}
load=${LOAD_BIN:-target/release/passgenau-load}
port=18094
mkdir -p target/bench
if [ "$backend" = postgres ]; then
  admin=${3:?admin URL}
  psql "$admin" -qc "DROP DATABASE IF EXISTS passgenau_search WITH (FORCE)" -c "CREATE DATABASE passgenau_search"
  url="${admin%/*}/passgenau_search"
else
  rm -f target/bench/search.db*
  url=target/bench/search.db
fi
if [ -n "${IMPORT:-}" ]; then
  seed_out=$("$bin" --database-url "$url" seed demo --customers 1000 2>/dev/null)
  "$bin" --database-url "$url" import "$IMPORT" 2>/dev/null | head -1
else
  seed_out=$("$bin" --database-url "$url" seed demo --customers "$customers" 2>/dev/null)
  echo "$seed_out" | head -1
fi
export PASSGENAU_LOAD_PASSWORD=$(echo "$seed_out" | awk '$1 == "admin" {print $3}')
PASSGENAU_LOG=warn "$bin" --database-url "$url" serve --bind 127.0.0.1:$port &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 300); do curl -sf "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
for clients in 1 16; do
  printf '%-8s %2s clients: ' "$backend" "$clients"
  "$load" --addr 127.0.0.1:$port --scenario search --concurrency "$clients" --seconds "$seconds" | sed -n 1p
done
