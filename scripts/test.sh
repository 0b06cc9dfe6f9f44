#!/usr/bin/env bash
# The whole test suite, on SQLite and — when a server is reachable — on PostgreSQL.
#
# PostgreSQL: PASSGENAU_TEST_POSTGRES_URL names an admin URL (each test creates and drops
# its own database there). When it is unset, the local server at 127.0.0.1:5432 is used if
# it answers (users postgres or root, database test); otherwise the PostgreSQL variants
# are skipped and this script says so. PASSGENAU_REQUIRE_POSTGRES=1 (set by CI) turns the
# skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# pq-sys links the system libpq: install it on a fresh Debian machine if it is missing.
if ! pkg-config --exists libpq 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing libpq-dev (needed to link PostgreSQL support)"
    apt-get update -qq && apt-get install -y -qq libpq-dev pkg-config >/dev/null
  else
    echo "libpq-dev is missing: install it (Debian/Ubuntu: apt-get install libpq-dev)" >&2
    exit 1
  fi
fi

if [ -z "${PASSGENAU_TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null; then
  for user in postgres root; do
    url="postgres://${user}@127.0.0.1:5432/test"
    if psql "$url" -qtAc 'SELECT 1' >/dev/null 2>&1; then
      export PASSGENAU_TEST_POSTGRES_URL="$url"
      break
    fi
  done
fi
if [ -n "${PASSGENAU_TEST_POSTGRES_URL:-}" ]; then
  echo "testing on SQLite and PostgreSQL (${PASSGENAU_TEST_POSTGRES_URL%%@*}@…)"
elif [ "${PASSGENAU_REQUIRE_POSTGRES:-}" = 1 ]; then
  echo "PASSGENAU_REQUIRE_POSTGRES=1 but no PostgreSQL server answers" >&2
  exit 1
else
  echo "NOTE: no PostgreSQL server answers: skipped PostgreSQL, testing SQLite only"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test binaries (cargo prints one per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
