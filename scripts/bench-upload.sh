#!/usr/bin/env bash
# Whether the server keeps answering others while it takes and imports an upload
# (issue #18): the same load (SCENARIO, default "recommendations 8") for SECONDS each,
# once alone and once while `POST /imports` uploads FILE and the import job runs.
#
#   scripts/bench-upload.sh BIN FILE
#
# FILE: an import file (e.g. `passgenau seed export target/bench/import-200000.ndjson
# --customers 200000`). CUSTOMERS (default 20,000) are seeded first; SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?binary}
file=${2:?import file}
customers=${CUSTOMERS:-20000}
seconds=${SECONDS_PER_RUN:-15}
scenario=${SCENARIO:-recommendations 8}
load=${LOAD_BIN:-target/release/passgenau-load}
port=18093
mkdir -p target/bench
rm -f target/bench/upload.db*
url=target/bench/upload.db
seed_out=$("$bin" --database-url "$url" seed demo --customers "$customers" 2>/dev/null)
password=$(echo "$seed_out" | awk '$1 == "admin" {print $3}')
export PASSGENAU_LOAD_PASSWORD=$password
PASSGENAU_LOG=warn "$bin" --database-url "$url" serve --bind 127.0.0.1:$port &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
set -- $scenario
printf 'alone:          '
"$load" --addr 127.0.0.1:$port --scenario "$1" --concurrency "$2" --seconds "$seconds" | sed -n 1p
token=$(curl -s -X POST 127.0.0.1:$port/api/v1/auth/login -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
(
  curl -s -o target/bench/upload.answer -w 'upload answered %{http_code} after %{time_total} s\n' \
    -X POST 127.0.0.1:$port/api/v1/imports -H "authorization: Bearer $token" \
    -H 'content-type: application/x-ndjson' --data-binary @"$file"
) &
upload=$!
sleep 1
printf 'during upload:  '
"$load" --addr 127.0.0.1:$port --scenario "$1" --concurrency "$2" --seconds "$seconds" | sed -n 1p
wait $upload
job=$(python3 -c 'import sys,json;print(json.load(open("target/bench/upload.answer"))["id"])')
curl -s "127.0.0.1:$port/api/v1/imports/$job" -H "authorization: Bearer $token" |
  python3 -c 'import sys,json;j=json.load(sys.stdin);print("job", j["status"], {k: j.get(k) for k in ("imported","updated","unchanged")}, "progress", j.get("progress"))'
