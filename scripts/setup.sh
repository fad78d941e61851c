#!/usr/bin/env bash
# Installs everything Ruta needs into .venv (idempotent; re-runs only what changed).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian ships venv separately (python3-venv).
    rm -rf .venv
    echo "installing python3-venv…" >&2
    as_root apt-get update -qq && as_root apt-get install -y -qq python3-venv >/dev/null
    "$PYTHON" -m venv .venv
  fi
fi

stamp=.venv/.ruta-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev,prod]"
  echo "$want" > "$stamp"
fi

# Compiled translations are build output, not source.
.venv/bin/pybabel compile -q -d caseapp/translations >/dev/null 2>&1 || .venv/bin/pybabel compile -d caseapp/translations
