"""Benchmarks at national scale (docs/performance.md): ``scripts/bench.sh [--persons N]
[--only B1,B3] [--quick]``. Not part of the test suite; ``tests/integration/
test_benchmarks_smoke.py`` only runs the pure helpers so they cannot rot."""
