#!/usr/bin/env bash
# Side-by-side with OR-Tools (own venv in target/ortools-venv). Examples:
#   scripts/compare-ortools.sh                                   # 10,000 x 1,000, 300,000 pairs
#   scripts/compare-ortools.sh --customers 100000 --offers 5000 --pairs 3000000
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/ortools-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ortools numpy
fi
cargo build --release --locked -p passgenau >/dev/null
"$venv/bin/python" scripts/compare_ortools.py "$@"
