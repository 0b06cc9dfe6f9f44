#!/usr/bin/env bash
# The pure crates must not depend on diesel or actix (design.md: "keep the layers honest").
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in passgenau-domain passgenau-allocation; do
  bad=$(cargo tree --locked -p "$crate" -e normal,build --prefix none 2>/dev/null | grep -E '^(diesel|actix|libsqlite3-sys|pq-sys)' | sort -u || true)
  if [ -n "$bad" ]; then
    echo "$crate depends on: $bad" >&2
    status=1
  else
    echo "$crate: no diesel, no actix"
  fi
done
exit $status
