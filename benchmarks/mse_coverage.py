"""Multiple systems estimation: interval coverage on simulated populations and the time of
one estimate at national scale (docs/estimation.md §Validation).

    PYTHONPATH=$PWD .venv/bin/python -m benchmarks.mse_coverage [--replicates 200]
        [--reps 1000] [--lists 4 5] [--size 2000]

Coverage: closed populations of known size; each person's capture history over 4 or 5
lists is drawn from a log-linear distribution with two-way dependences (the model's
assumptions hold); the share of seeded replicates whose 95 % interval contains the true
size. The suite runs the same check with 200 replicates, 4 lists and 300 bootstrap
replicates (tests/unit/test_estimation.py); this script runs the published settings.

Timing: the estimator alone on a 6-list table with the counts of a year of a
1,000,000-person register (the SQL that counts the overlap is timed by B1's overlap
report at that scale).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from caseapp.reports import estimation as mse

MAIN = {4: [-1.2, -1.0, -1.5, -0.8], 5: [-1.2, -1.0, -1.5, -0.8, -1.3]}
INTERACTIONS = {(0, 1): 0.8, (2, 3): -0.5}


def simulate(rng: np.random.Generator, size: int, t: int) -> mse.Table:
    everything = np.vstack([np.zeros(t), mse._patterns(t)])
    eta = everything @ np.array(MAIN[t])
    for (i, j), w in INTERACTIONS.items():
        eta = eta + w * everything[:, i] * everything[:, j]
    probs = np.exp(eta) / np.exp(eta).sum()
    counts = rng.multinomial(size, probs)
    return mse.Table(tuple("ABCDE"[:t]), everything[1:], counts[1:].astype(float))


def coverage(t: int, replicates: int, reps: int, size: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    covered = refused = 0
    widths: list[float] = []
    estimates: list[float] = []
    started = time.perf_counter()
    for replicate in range(replicates):
        result = mse.estimate(simulate(rng, size, t), reps=reps, seed=replicate)
        if isinstance(result, mse.Refusal):
            refused += 1
            continue
        covered += result.ci_low <= size <= result.ci_high
        widths.append(result.ci_high - result.ci_low)
        estimates.append(result.estimate)
    return {
        "lists": t,
        "replicates": replicates,
        "coverage": covered / max(replicates - refused, 1),
        "refused": refused,
        "mean_estimate": float(np.mean(estimates)) if estimates else float("nan"),
        "mean_width": float(np.mean(widths)) if widths else float("nan"),
        "seconds": time.perf_counter() - started,
    }


def national_table(seed: int = 1) -> mse.Table:
    """Six lists, ~670,000 persons observed out of 1,000,000 (a year of a national
    register at the scale of docs/performance.md), with two dependences."""
    rng = np.random.default_rng(seed)
    t = 6
    everything = np.vstack([np.zeros(t), mse._patterns(t)])
    eta = everything @ np.array([-1.0, -1.3, -2.0, -2.2, -1.6, -2.5])
    eta = (
        eta + 0.7 * everything[:, 0] * everything[:, 1] - 0.4 * everything[:, 2] * everything[:, 4]
    )
    probs = np.exp(eta) / np.exp(eta).sum()
    counts = rng.multinomial(1_000_000, probs)
    return mse.Table(tuple("ABCDEF"), everything[1:], counts[1:].astype(float))


def time_national(reps: int) -> dict[str, float]:
    table = national_table()
    mse.estimate(table, reps=100)  # imports (statsmodels, scipy) outside the timing
    started = time.perf_counter()
    result = mse.estimate(table, reps=reps)
    seconds = time.perf_counter() - started
    assert isinstance(result, mse.Estimate), result
    return {
        "observed": result.observed,
        "estimate": round(result.estimate),
        "ci_low": round(result.ci_low),
        "ci_high": round(result.ci_high),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--lists", type=int, nargs="+", default=[4, 5], choices=[4, 5])
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261205)
    args = parser.parse_args()
    for t in args.lists:
        row = coverage(t, args.replicates, args.reps, args.size, args.seed)
        print(
            f"{t} lists: coverage {row['coverage']:.3f} over {row['replicates']} replicates "
            f"(refused {row['refused']}), mean estimate {row['mean_estimate']:.0f} "
            f"(true {args.size}), mean interval width {row['mean_width']:.0f}, "
            f"{row['seconds']:.1f} s"
        )
    for reps in (500, 1000):
        row = time_national(reps)
        print(
            f"one stratum, 1,000,000 persons, 6 lists, {reps} bootstrap reps: "
            f"{row['seconds']:.2f} s (observed {row['observed']:,}, estimate "
            f"{row['estimate']:,}, interval {row['ci_low']:,}–{row['ci_high']:,})"
        )


if __name__ == "__main__":
    main()
