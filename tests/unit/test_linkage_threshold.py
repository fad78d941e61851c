"""The match threshold follows the data size (model.threshold_bits).

A weight is a Bayes factor against a random pair; a random pair of a larger register is
less likely to be a match, so a fixed number of bits would merge more strangers the more
records there are (synthetic data: precision 0.85 at 30,000 records with 10 bits)."""

from __future__ import annotations

import math

import pytest

from caseapp.facts import model


def estimated(records: int, pairs: int, share: float) -> model.Model:
    fitted = model.default_model()
    fitted.records, fitted.pairs, fitted.match_share, fitted.adjust = records, pairs, share, True
    return fitted


def test_the_default_model_links_at_the_floor() -> None:
    assert model.threshold_bits(model.default_model(), 0.5, 10.0) == 10.0
    assert model.threshold_bits(model.default_model(), 0.99, 7.5) == 7.5


def test_posterior_one_half_is_the_log_of_pairs_per_expected_match() -> None:
    fitted = estimated(30_000, 1_500_000, 0.01)  # 15,000 expected matches
    expected = math.log2(30_000 * 29_999 / 2 / 15_000)
    assert model.threshold_bits(fitted, 0.5, 0.0) == pytest.approx(expected, abs=0.01)


def test_it_rises_with_the_register_and_with_the_probability_asked() -> None:
    small = estimated(30_000, 1_500_000, 0.01)
    large = estimated(1_000_000, 50_000_000, 0.01)  # same duplication, 33 times the records
    assert model.threshold_bits(large, 0.5, 0.0) == pytest.approx(
        model.threshold_bits(small, 0.5, 0.0) + math.log2(1_000_000 / 30_000), abs=0.05
    )
    assert model.threshold_bits(small, 0.9, 0.0) == pytest.approx(
        model.threshold_bits(small, 0.5, 0.0) + math.log2(9), abs=0.01
    )


def test_never_below_the_floor() -> None:
    dense = estimated(1_000, 5_000, 0.9)  # almost every blocked pair a match
    assert model.threshold_bits(dense, 0.5, 0.0) < 10.0
    assert model.threshold_bits(dense, 0.5, 10.0) == 10.0
