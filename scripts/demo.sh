#!/usr/bin/env bash
# Sets everything up and starts the demo on http://127.0.0.1:5000 (SQLite under instance/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export CASEAPP_ENV="${CASEAPP_ENV:-development}"
flask() { .venv/bin/flask --app caseapp "$@"; }
flask db upgrade
flask seed
echo
flask demo users
flask demo cases
flask demo statistics
flask referrals escalate   # overdue mandatory referrals reach the supervisor
echo
echo "Ruta demo: http://127.0.0.1:${PORT:-5000}/  (Ctrl+C to stop)"
exec .venv/bin/flask --app caseapp run --host 127.0.0.1 --port "${PORT:-5000}"
