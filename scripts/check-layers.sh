#!/usr/bin/env bash
# Keep the layers honest (design.md): the pure crates depend on neither diesel, actix nor
# the store; the server's services (and application layer) and its state never import
# the routes (data flows handler -> application -> domain -> store, never back).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for crate in passgenau-domain passgenau-allocation; do
  bad=$(cargo tree --locked -p "$crate" -e normal,build --prefix none 2>/dev/null | grep -E '^(diesel|actix|libsqlite3-sys|pq-sys|passgenau-store)' | sort -u || true)
  if [ -n "$bad" ]; then
    echo "$crate depends on: $bad" >&2
    status=1
  else
    echo "$crate: no diesel, no actix, no store"
  fi
done
# `crate::routes` (or `super::routes`) in the layers below the handlers
layers=(crates/server/src/app crates/server/src/state.rs)
if hits=$(grep -rnE '(crate|super)::routes\b|use crate::\{[^}]*\broutes\b' "${layers[@]}"); then
  echo "the application layer or the state imports the routes:" >&2
  echo "$hits" >&2
  status=1
else
  echo "server app/ and state: no import of the routes"
fi
# every use of `on_backend!` and `insert_rows!` is listed with its reason in the doc of
# `on_backend!` (store/src/connection.rs)
used=$(cd crates/store/src && awk 'FNR==1 {fn=""} /^(pub )?fn /{fn=$0; sub(/^(pub )?fn /,"",fn); sub(/[(<].*/,"",fn)} /(on_backend|insert_rows)!\(/ && !/macro_rules|^ *\/\/\/|\$crate::insert_rows/ {f=FILENAME; sub(/\.rs$/,"",f); print f "::" fn}' *.rs | sort -u)
listed=$(grep -oE '^/// \| `[a-z_]+::[a-z_]+` \|' crates/store/src/connection.rs | sed -E 's/^\/\/\/ \| `([^`]+)` \|/\1/' | sort -u)
if [ "$used" != "$listed" ]; then
  echo "on_backend! uses and the list in store/src/connection.rs differ:" >&2
  diff <(echo "$listed") <(echo "$used") >&2 || true
  status=1
else
  echo "on_backend!: $(echo "$used" | wc -l) uses, each listed with its reason"
fi
exit $status
