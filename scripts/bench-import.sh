#!/usr/bin/env bash
# The import (issue #18): a demo population written as an import file, imported into an
# empty database and then again (the second run changes nothing), timed, with the
# importer's peak memory (GNU time's maximum resident set size).
#
#   scripts/bench-import.sh BIN sqlite
#   scripts/bench-import.sh BIN postgres postgres://postgres@127.0.0.1:5432/test
#
# CUSTOMERS (default 1,000,000; the file is kept in target/bench and made once).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?binary}
backend=${2:-sqlite}
customers=${CUSTOMERS:-1000000}
mkdir -p target/bench
file=target/bench/import-$customers.ndjson
[ -s "$file" ] || "$bin" seed export "$file" --customers "$customers"
echo "file: $(wc -l <"$file") lines, $(du -h "$file" | cut -f1)"
if [ "$backend" = postgres ]; then
  admin=${3:?admin URL}
  psql "$admin" -qc "DROP DATABASE IF EXISTS passgenau_import WITH (FORCE)" -c "CREATE DATABASE passgenau_import"
  url="${admin%/*}/passgenau_import"
else
  rm -f target/bench/import.db*
  url=target/bench/import.db
fi
"$bin" --database-url "$url" migrate >/dev/null
for run in first again; do
  summary=$(/usr/bin/time -f '%M' -o target/bench/import.rss "$bin" --database-url "$url" import "$file" --show-rejected 0 2>/dev/null | head -1)
  printf '%-8s %-6s %s; peak RSS %s MiB\n' "$backend" "$run" "$summary" $(( $(cat target/bench/import.rss) / 1024 ))
done
