#!/usr/bin/env bash
# Fuzzing from the spec: schemathesis (own venv) against a running passgenau with a
# token for each role. Fails on a server error, a status code or content type outside
# the spec, or a response that violates its schema. Used by .ci/run.
#   scripts/fuzz.sh [path/to/passgenau]   (default: target/debug/passgenau)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-target/debug/passgenau}
venv=target/st-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" --database-url "$work/fuzz.db" seed demo --customers 1000 > "$work/seed.txt" 2>/dev/null
PASSGENAU_LOG=error "$bin" --database-url "$work/fuzz.db" serve --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
# all tokens first: the fuzzer's failed logins would throttle later logins from here
declare -A tokens
for user in admin ifk.demo traeger.demo reporting.demo; do
  pw=$(awk -v u="$user" '$1 == u {print $3}' "$work/seed.txt")
  tokens[$user]=$(curl -fs -X POST "127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$user\",\"password\":\"$pw\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
done
# a partner system's API key, made by the admin (an identity of its own)
provider_id=$(curl -fs "127.0.0.1:$port/api/v1/me" -H "Authorization: Bearer ${tokens[traeger.demo]}" |
  python3 -c 'import sys,json;print(json.load(sys.stdin)["provider_id"])')
tokens[api-key]=$(curl -fs -X POST "127.0.0.1:$port/api/v1/api-keys" -H 'content-type: application/json' \
  -H "Authorization: Bearer ${tokens[admin]}" \
  -d "{\"name\":\"fuzz partner system\",\"role\":\"provider\",\"provider_id\":\"$provider_id\"}" |
  python3 -c 'import sys,json;print(json.load(sys.stdin)["key"])')
fuzz() { # name, token, further schemathesis options
  local name=$1 token=$2
  shift 2
  echo "== schemathesis as $name"
  # run from the temporary folder: schemathesis keeps a cache in its working directory
  (cd "$work" && SCHEMATHESIS_HOOKS=st_hooks PYTHONPATH="$root/scripts" "$root/$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" \
    -H "Authorization: Bearer $token" "$@" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${FUZZ_EXAMPLES:-20}" --seed 2021 --no-color >"$work/st-$name.log" 2>&1) || return 1
  grep -E "generated|FAILURES|failed" "$work/st-$name.log" | tail -3
}
# a token of its own for the logout, made now: the fuzzer's wrong current passwords at
# /me/password lock ifk.demo out of logging in later
pw=$(awk '$1 == "ifk.demo" {print $3}' "$work/seed.txt")
last=$(curl -fs -X POST "127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"ifk.demo\",\"password\":\"$pw\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
status=0
# a logout ends the token the run goes on with: it is fuzzed last, on a token of its own
for user in admin ifk.demo traeger.demo reporting.demo api-key; do
  fuzz "$user" "${tokens[$user]}" --exclude-path /api/v1/auth/logout || {
    status=1
    if grep -q FAILURES "$work/st-$user.log"; then
      sed -n '/FAILURES/,$p' "$work/st-$user.log" | head -80
    else
      tail -40 "$work/st-$user.log"
    fi
    break
  }
done
if [ $status -eq 0 ]; then
  fuzz logout "$last" --include-path /api/v1/auth/logout || {
    status=1
    sed -n '/FAILURES/,$p' "$work/st-logout.log" | head -80
  }
fi
exit $status
