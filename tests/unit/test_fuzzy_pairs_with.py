"""``fuzzy.pairs_with`` (one new record against its candidates, facts.link_one) finds
exactly the pairs with that record that ``fuzzy.candidate_pairs`` finds among all."""

from __future__ import annotations

import random
from datetime import date

import pytest

from caseapp.reports import fuzzy

KEY = b"k" * 32
GIVEN = ("Rosa", "Roza", "Maria", "María", "Luz", "Flor")
FAMILY = ("Quispe", "Quispe Mamani", "Mamani", "Qispe Mamani", "Huaman", "Flores")


def records(seed: int, n: int) -> list[tuple[int, fuzzy.FuzzyRecord]]:
    rng = random.Random(seed)
    encoder = fuzzy.Encoder(KEY)
    out = []
    for i in range(n):
        sex = rng.choice(("F", "F", "M"))
        dob = date(1990 + rng.randrange(3), 1, 1 + rng.randrange(2)) if rng.random() < 0.4 else None
        year = dob.year if dob else (1990 + rng.randrange(4) if rng.random() < 0.6 else None)
        names = encoder.encode(rng.choice(GIVEN), rng.choice(FAMILY), sex, dob)
        out.append((i, fuzzy.FuzzyRecord(sex, year, names.bloom, names.blocks, names.dob)))
    return out


@pytest.mark.parametrize("limit", [200, 4])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pairs_with_equals_the_pairs_of_candidate_pairs(monkeypatch, seed, limit):
    monkeypatch.setattr(fuzzy, "UNDATED_BLOCK_LIMIT", limit)
    rows = records(seed, 120)
    everything = list(fuzzy.candidate_pairs(rows))
    assert everything, "the sample must contain matches"
    found = 0
    for record_id, record in rows:
        expected = {
            (b if a == record_id else a): score
            for a, b, score in everything
            if record_id in (a, b)
        }
        others = [(i, r) for i, r in rows if i != record_id]
        got = dict(fuzzy.pairs_with(record, others))
        assert got == pytest.approx(expected), record_id
        found += len(got)
    assert found == 2 * len(everything)


def test_pairs_with_ignores_records_without_a_name_code():
    rows = records(5, 10)
    empty = fuzzy.FuzzyRecord("F", 1990, None, None)
    assert list(fuzzy.pairs_with(empty, rows)) == []
