"""Multiple systems estimation (caseapp.reports.estimation): the UK 2013 reference figure,
coverage on simulated populations, refusals of what cannot be estimated, the CSV reader."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from caseapp.reports import estimation as mse

ROOT = Path(__file__).resolve().parents[2]
UK_NAME = Path("shared") / "data" / "mse" / "uk_2013_five_lists.csv"


def uk_table_path() -> Path:
    """The shared reference file, next to the repository (main checkout: ``../shared``;
    a worktree under ``wt/``: ``../../shared``). Never skipped: missing data fails."""
    for up in (ROOT / "..", ROOT / ".." / ".."):
        candidate = up / UK_NAME
        if candidate.is_file():
            return candidate
    raise AssertionError(f"{UK_NAME} not found next to the repository {ROOT}")


def uk_table() -> mse.Table:
    with uk_table_path().open(encoding="utf-8", newline="") as handle:
        return mse.read_table(handle)


def table(lists: str, cells: dict[str, int]) -> mse.Table:
    """`cells` keys are strings of list letters, e.g. {"AB": 5}."""
    return mse.Table.from_cells(list(lists), [(set(key), n) for key, n in cells.items()])


# -- the published UK figure ------------------------------------------------------------------


def test_uk_2013_reproduces_the_published_estimate():
    result = mse.estimate(uk_table())
    assert isinstance(result, mse.Estimate), result
    assert result.observed == 2744
    assert result.criterion == "aic"
    assert abs(result.estimate - 11313) / 11313 < 0.02
    assert 9500 <= result.ci_low < result.estimate < result.ci_high <= 13600
    # LA and GP share no person: their interaction would have no MLE and is never fitted
    assert "LA:GP" not in result.chosen.term_names(result.lists)
    # both criteria are reported; BIC (log of persons) keeps fewer interactions
    assert set(result.models) == {"aic", "bic"}
    assert len(result.models["bic"].terms) <= len(result.models["aic"].terms)
    doc = result.as_dict()
    assert doc["interval"]["refit"] == "chosen_model"
    assert doc["fit"]["df"] == 31 - 6 - len(result.chosen.terms)


def test_zero_overlap_interaction_has_no_mle_and_is_not_a_candidate():
    uk = uk_table()
    la, gp = uk.lists.index("LA"), uk.lists.index("GP")
    assert uk.overlap(la, gp) == 0
    assert (la, gp) not in mse.candidate_pairs(uk)
    assert not mse.mle_exists(mse.design(uk.patterns, [(la, gp)]), uk.counts)
    assert mse.mle_exists(mse.design(uk.patterns, []), uk.counts)


def test_estimate_is_deterministic_for_a_seed():
    a = mse.estimate(uk_table(), reps=300, seed=5)
    b = mse.estimate(uk_table(), reps=300, seed=5)
    c = mse.estimate(uk_table(), reps=300, seed=6)
    assert isinstance(a, mse.Estimate) and isinstance(b, mse.Estimate)
    assert isinstance(c, mse.Estimate)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)
    assert a.estimate == c.estimate  # the point estimate does not depend on the seed


def test_vectorised_refit_agrees_with_statsmodels():
    uk = uk_table()
    result = mse.estimate(uk, reps=200)
    assert isinstance(result, mse.Estimate)
    x = mse.design(uk.patterns, result.chosen.terms)
    start = np.zeros(x.shape[1])
    start[0] = np.log(uk.counts.mean())
    beta = mse._newton_batch(x, uk.counts[None, :], start)
    np.testing.assert_allclose(beta[0], result.chosen.params, rtol=1e-6, atol=1e-6)


def test_stepwise_scores_agree_with_statsmodels_fits():
    """The numpy fits that score the stepwise candidates give statsmodels' numbers."""
    uk = uk_table()
    for terms in ([], mse.candidate_pairs(uk)[:3], mse.candidate_pairs(uk)):
        quick = mse._quick_fit(uk, terms, None)
        full = mse._fit(uk, terms)
        assert quick is not None and full is not None
        assert quick.aic == pytest.approx(full.aic, abs=1e-6)
        assert quick.bic == pytest.approx(full.bic, abs=1e-6)
        assert quick.deviance == pytest.approx(full.deviance, abs=1e-6)
        assert quick.unseen == pytest.approx(full.unseen, rel=1e-6)
    la, gp = uk.lists.index("LA"), uk.lists.index("GP")
    assert mse._quick_fit(uk, [(la, gp)], None) is None  # no MLE: never a candidate model


# -- simulated populations of known size --------------------------------------------------------

MAIN = np.array([-1.2, -1.0, -1.5, -0.8])
INTERACTIONS = {(0, 1): 0.8, (2, 3): -0.5}


def simulate(rng: np.random.Generator, size: int) -> mse.Table:
    """A closed population of `size` persons; each person's capture history (4 lists)
    drawn from a log-linear distribution with two two-way dependences: heterogeneous
    capture (lists differ, A and B catch the same persons, C and D avoid each other)."""
    t = len(MAIN)
    everything = np.vstack([np.zeros(t), mse._patterns(t)])
    eta = everything @ MAIN + sum(
        w * everything[:, i] * everything[:, j] for (i, j), w in INTERACTIONS.items()
    )
    probs = np.exp(eta) / np.exp(eta).sum()
    counts = rng.multinomial(size, probs)
    return mse.Table(tuple("ABCD"), everything[1:], counts[1:].astype(float))


def test_interval_covers_the_true_size_in_at_least_90_percent_of_200_replicates():
    rng = np.random.default_rng(20261205)
    size = 2000
    covered = refused = 0
    for replicate in range(200):
        result = mse.estimate(simulate(rng, size), reps=300, seed=replicate)
        if isinstance(result, mse.Refusal):
            refused += 1
            continue
        covered += result.ci_low <= size <= result.ci_high
    assert refused == 0
    assert covered / 200 >= 0.90, covered


# -- refusals ---------------------------------------------------------------------------------


def test_refuses_fewer_than_three_lists_with_persons():
    result = mse.estimate(table("ABC", {"A": 30, "B": 20, "AB": 5}))
    assert isinstance(result, mse.Refusal)
    assert result.code == "too_few_lists"
    assert "tres listas" in result.message_es and "three lists" in result.message_en


def test_refuses_a_list_that_overlaps_no_other():
    result = mse.estimate(
        table("ABCD", {"A": 50, "B": 40, "C": 30, "D": 25, "AB": 10, "AC": 8, "BC": 6, "ABC": 2})
    )
    assert isinstance(result, mse.Refusal)
    assert result.code == "isolated_list"
    assert result.details == {"list": "D"}
    assert "D" in result.message_es


def test_refuses_too_few_persons_for_the_threshold():
    cells = {"A": 3, "B": 2, "C": 2, "AB": 1, "AC": 1}
    result = mse.estimate(table("ABC", cells), min_persons=10)
    assert isinstance(result, mse.Refusal)
    assert result.code == "too_few_persons"
    assert result.details == {"minimum": 10}


def test_refuses_when_the_main_effects_mle_does_not_exist():
    # every person was seen by A: the likelihood keeps rising as A's capture probability
    # goes to 1 (the intercept, i.e. the log of the unseen cell, to -inf): no MLE
    cells = {"A": 40, "AB": 30, "AC": 10, "ABC": 5}
    tab = table("ABC", cells)
    assert not mse.mle_exists(mse.design(tab.patterns, []), tab.counts)
    result = mse.estimate(tab)
    assert isinstance(result, mse.Refusal)
    assert result.code == "no_estimate"


def test_refuses_a_huge_unseen_estimate():
    # three large lists that barely overlap: the unseen cell is thousands of times the data
    cells = {"A": 500, "B": 500, "C": 500, "AB": 1, "AC": 1, "BC": 1}
    result = mse.estimate(table("ABC", cells))
    assert isinstance(result, mse.Refusal)
    assert result.code == "unstable_estimate"


def test_simulated_non_identifiable_tables_are_refused():
    """Seeded simulations where one list never meets the others, or lists too small."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        tab = simulate(rng, 1500)
        cells = [
            ({tab.lists[i] for i in range(4) if row[i]}, int(n))
            for row, n in zip(tab.patterns, tab.counts, strict=True)
        ]
        # a fifth list that shares nobody with the other four
        cells.append(({"E"}, int(rng.integers(5, 50))))
        result = mse.estimate(mse.Table.from_cells("ABCDE", cells), reps=200)
        assert isinstance(result, mse.Refusal) and result.code == "isolated_list"


def test_empty_lists_are_dropped_before_counting_lists():
    cells = {"A": 30, "B": 20, "AB": 5}
    result = mse.estimate(table("ABCD", cells))
    assert isinstance(result, mse.Refusal) and result.details == {"lists": 2}


# -- the CSV reader ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the file is empty"),
        ("A,B,C\n1,0,0\n", "line 1: no 'count' column"),
        ("A,B,count\n1,0,5\n1,2,3\n", "line 3, column 'B': must be 0 or 1, not '2'"),
        ("A,B,count\n1,0,five\n", "line 2, column 'count': must be a whole number"),
        ("A,B,count\n1,0,5\n1,0,6\n", "line 3: combination repeats line 2"),
        ("A,B,count\n1,0\n", "line 2: expected 3 values, found 2"),
        ("A,B,count\n0,0,7\n", "line 2: the all-zero combination is the unknown"),
        ("A,A,count\n1,0,7\n", "line 1: a column name is repeated"),
    ],
)
def test_bad_tables_name_the_line_and_column(text, expected):
    with pytest.raises(mse.TableError) as info:
        mse.read_table(io.StringIO(text))
    assert str(info.value).startswith(expected)


def test_reader_accepts_absent_combinations_and_a_bom():
    tab = mse.read_table(io.StringIO("\ufeffA,B,C,count\n1,0,0,5\n0,1,1,3\n0,0,0,0\n"))
    assert tab.lists == ("A", "B", "C")
    assert tab.observed == 8
    assert len(tab.counts) == 7
