"""Cell-key perturbation, the pure part (caseapp/stats/cellkey.py, disclosure.Perturbation;
docs/decisions/0016-differencing-proof-statistics.md)."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseapp.stats import cellkey, disclosure

SECRET = bytes(range(32))
MIX = cellkey.mixer(SECRET, "person")


def test_record_keys_are_keyed_spread_and_separated_by_domain():
    keys = [cellkey.record_key(i, MIX) for i in range(1, 2001)]
    assert all(0 <= key < cellkey.MODULUS for key in keys)
    assert len(set(keys)) == len(keys)  # consecutive ids, unrelated keys
    # roughly uniform: each tenth of [0, MODULUS) gets 200 +- a few dozen of 2000
    tenths = Counter(key * 10 // cellkey.MODULUS for key in keys)
    assert all(140 <= tenths[t] <= 260 for t in range(10)), tenths
    other_secret = cellkey.mixer(bytes(32), "person")
    other_domain = cellkey.mixer(SECRET, "screening")
    assert [cellkey.record_key(i, other_secret) for i in range(1, 50)] != keys[:49]
    assert [cellkey.record_key(i, other_domain) for i in range(1, 50)] != keys[:49]
    assert cellkey.record_key(7, MIX) == cellkey.record_key(7, cellkey.mixer(SECRET, "person"))
    with pytest.raises(ValueError):
        cellkey.mixer(b"", "person")


@pytest.mark.parametrize("max_noise", [1, 2, 3, 5])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_the_ptable_is_zero_mean_bounded_and_never_below_k(k, max_noise):
    for count in range(0, 60):
        row = cellkey.noise_table(count, k, max_noise)
        total = sum(w for _, w in row)
        assert sum(Fraction(d * w, total) for d, w in row) == 0, count  # zero mean
        assert all(abs(d) <= max_noise for d, _ in row)
        if count == 0 or count < k:
            assert row == ((0, 1),)  # zeros stay zeros; small ones are suppressed anyway
        else:
            assert all(count + d >= k for d, _ in row)
    assert cellkey.noise_table(30, 10, 0) == ((0, 1),)  # 0 turns it off


def test_the_lookup_follows_the_ptable_over_uniform_cell_keys():
    """Reading the table at evenly spread cell keys reproduces its weights exactly."""
    row = dict(cellkey.noise_table(40, 10, 2))
    steps = 10_000
    seen = Counter(cellkey.noise(40, i * cellkey.MODULUS // steps, 10, 2) for i in range(steps))
    total = sum(row.values())
    for d, w in row.items():
        assert abs(seen[d] / steps - w / total) < 0.001


def test_adding_one_person_changes_the_noise_unpredictably():
    """The pure form of the attack: a cell of 14 persons, then the same 14 plus one.
    Exact counts always differ by 1; perturbed, the difference is spread over -3..5."""
    rng = random.Random(20250702)
    differences = Counter()
    for _ in range(2000):
        ids = rng.sample(range(1, 10**6), 15)
        keys = [cellkey.record_key(i, MIX) for i in ids]
        before = cellkey.perturb(14, cellkey.cell_key(sum(keys[:14])), 10, 2)
        after = cellkey.perturb(15, cellkey.cell_key(sum(keys)), 10, 2)
        differences[after - before] += 1
    assert set(differences) <= set(range(-3, 6))
    assert len(differences) >= 7
    assert differences[1] / 2000 < 0.35  # the true difference is not even the usual answer
    mean = sum(d * n for d, n in differences.items()) / 2000
    assert abs(mean - 1) < 0.15  # unbiased: totals over many cells stay right on average


# -- the chokepoint: disclosure.suppress_table / publish_count with a Perturbation ----------


tables = st.dictionaries(
    st.tuples(st.sampled_from("abcdef"), st.sampled_from("xyz")),
    st.integers(min_value=0, max_value=40),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(
    cells=tables,
    k=st.integers(min_value=1, max_value=12),
    max_noise=st.integers(min_value=0, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_perturbed_tables_are_repeatable_bounded_and_never_small(cells, k, max_noise, seed):
    rng = random.Random(seed)
    keys = {key: rng.randrange(10**12) for key in cells}
    total = sum(cells.values())
    perturbation = disclosure.Perturbation(max_noise, keys, rng.randrange(10**12))

    def publish() -> disclosure.SuppressedTable:
        return disclosure.suppress_table(["a", "b"], cells, total, k, perturbation=perturbation)

    first, again = publish(), publish()
    assert first == again  # the same query gives the same figures: nothing averages out
    exact = disclosure.suppress_table(["a", "b"], cells, total, k)
    # suppression is decided on the true counts: the same pattern as without noise
    assert [c.suppressed for c in first.cells] == [c.suppressed for c in exact.cells]
    assert first.total.suppressed == exact.total.suppressed
    published = [(cells[c.key], c.count) for c in first.cells if not c.suppressed]
    if not first.total.suppressed:
        published.append((total, first.total.count))
    for true, shown in published:
        assert shown is not None
        assert abs(shown - true) <= max_noise
        assert not 1 <= shown < k, (true, shown)
        assert (shown == 0) == (true == 0)  # zeros stay zero and nothing becomes zero


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=500),
    key=st.integers(min_value=0, max_value=10**15),
    k=st.integers(min_value=1, max_value=20),
    max_noise=st.integers(min_value=0, max_value=7),
)
def test_a_stand_alone_count_is_suppressed_then_perturbed(count, key, k, max_noise):
    published = disclosure.publish_count(count, k, key=key, max_noise=max_noise)
    assert published == disclosure.publish_count(count, k, key=key, max_noise=max_noise)
    if 0 < count < k:
        assert published == disclosure.PublishedCount(None, True, "primary")
    else:
        assert published.count is not None and abs(published.count - count) <= max_noise
        assert not 1 <= published.count < k


def test_a_published_count_without_its_cell_key_is_refused():
    """Deny by default: no exact count slips out because a key was forgotten."""
    with pytest.raises(ValueError, match="no cell key"):
        disclosure.suppress_table(
            ["sex"],
            {("F",): 20, ("M",): 15},
            35,
            10,
            perturbation=disclosure.Perturbation(2, {("F",): 123}, 456),
        )
    with pytest.raises(ValueError, match="no cell key"):
        disclosure.publish_count(20, 10, max_noise=2)
    # zeros need no key; with noise off nothing needs one
    table = disclosure.suppress_table(
        ["sex"],
        {("F",): 20, ("M",): 0},
        20,
        10,
        perturbation=disclosure.Perturbation(2, {("F",): 99}, 0),
    )
    assert table.cells[1].count == 0 and table.total.count is not None
    assert disclosure.publish_count(20, 10, max_noise=0).count == 20


def test_the_description_says_totals_are_not_sums_in_both_languages():
    doc = cellkey.description(2)
    assert doc["method"] == "cell_key" and doc["max_noise"] == 2 and doc["additive"] is False
    note = doc["note"]
    assert isinstance(note, dict)
    assert "suma de las filas" in note["es"] and "sum of the rows" in note["en"]


@pytest.mark.parametrize("bad", [-1, 8, "2", True, 1.5])
def test_the_noise_setting_is_checked_at_start_up(tmp_path, bad):
    from caseapp.core.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="PERTURBATION_MAX_NOISE"):
        load_config({"ENV": "testing", "PERTURBATION_MAX_NOISE": bad}, instance_path=tmp_path)
    cfg = load_config({"ENV": "testing"}, instance_path=tmp_path, environ={})
    assert cfg["PERTURBATION_MAX_NOISE"] == cellkey.DEFAULT_MAX_NOISE == 2
