#!/usr/bin/env bash
# Sets everything up and runs the whole suite: lint, types, tests on SQLite and, when
# CASEAPP_TEST_DATABASE_URL is set, again on that database (PostgreSQL in CI).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
if [ -z "${CASEAPP_CHROMIUM:-}" ] && ! command -v chromium >/dev/null; then
  echo "installing Chromium for the browser tests…" >&2
  (as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null) || {
    echo "error: Chromium is needed for the browser tests (apt-get install chromium)" >&2; exit 1; }
fi

failed=0
step() { echo "== $*"; "$@" || failed=1; }

step .venv/bin/ruff check caseapp devtools tests benchmarks migrations/env.py
step .venv/bin/ruff format --check -q caseapp devtools tests benchmarks migrations/env.py
step .venv/bin/mypy caseapp
step .venv/bin/bandit -q -r caseapp -lll
step scripts/audit_deps.sh
step scripts/i18n.sh --check
step env -u CASEAPP_TEST_DATABASE_URL .venv/bin/pytest -q "$@"
if [ -n "${CASEAPP_TEST_DATABASE_URL:-}" ]; then
  echo "== on ${CASEAPP_TEST_DATABASE_URL%%@*}@…"
  step .venv/bin/pytest -q -m "not browser" "$@"
fi

if [ "$failed" != 0 ]; then echo "FAILED"; exit 1; fi
echo "all checks passed"
