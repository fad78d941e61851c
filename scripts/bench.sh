#!/usr/bin/env bash
# Benchmarks at national scale (docs/performance.md): builds a synthetic PostgreSQL
# database (CASEAPP_BENCH_DATABASE_URL, default ruta_bench on 127.0.0.1; dropped and
# recreated), runs B1–B6, B3C and IMPORT, prints the table and writes docs/performance.md.
#   scripts/bench.sh [--persons N] [--only B1,B3] [--quick]
# B6 (linkage quality against Splink on FEBRL and synth) needs no database; alone
# (--only B6) it rewrites only its own section. Its dependencies are the `bench` extra.
# Register import (issue 17; its own SQLite file and PostgreSQL database ruta_bench_import,
# docs/performance.md "Register import"): a synthetic police-register XLSX, dry run, real
# run and re-import:
#   scripts/bench.sh --only IMPORT [--import-rows 100000]
#   (or .venv/bin/python -m benchmarks.imports --rows 100000 [--database-url URL])
# HTCDS round trip (issue 17; its own databases ruta_exchange and ruta_exchange_rt):
#   scripts/bench.sh --only HTCDS [--persons 720] [--sqlite]
# Fault injection (not run here; starts its own private PostgreSQL, restarts it under load;
# docs/security.md, "Fault run"): .venv/bin/python -m benchmarks.fault_restart [--seconds 60]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [[ "${1:-}" == "--only" && "${2:-}" == "HTCDS" ]]; then
  shift 2
  exec .venv/bin/python -m benchmarks.htcds_roundtrip "$@"
fi
# The benchmark-only dependencies (Splink, recordlinkage: pyproject.toml `bench`).
bench_stamp=.venv/.ruta-bench-installed
bench_want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$bench_stamp" ] || [ "$(cat "$bench_stamp")" != "$bench_want" ]; then
  .venv/bin/python -m pip install -q -e ".[bench]"
  echo "$bench_want" > "$bench_stamp"
fi
exec .venv/bin/python -m benchmarks.run "$@"
