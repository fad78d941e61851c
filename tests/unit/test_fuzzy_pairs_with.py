"""``fuzzy.pairs_with`` (one new record against its candidates, facts.link_one) finds
exactly the pairs with that record that ``fuzzy.candidate_pairs`` finds among all."""

from __future__ import annotations

import random
from datetime import date

import pytest

from caseapp.facts import fuzzy

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
            (b if a == record_id else a): score for a, b, score in everything if record_id in (a, b)
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


def brute_force(rows: list[tuple[int, fuzzy.FuzzyRecord]]) -> dict[tuple[int, int], float]:
    """The module docstring's definition, pair by pair over every pair of records."""
    usable = [(i, r) for i, r in rows if r.bloom and r.blocks and r.sex in {"F", "M", "intersex"}]
    sizes: dict[tuple[str, str], int] = {}
    for _, r in usable:
        for code in r.blocks.split():  # type: ignore[union-attr]
            sizes[(r.sex, code)] = sizes.get((r.sex, code), 0) + 1  # type: ignore[index]
    out = {}
    for n, (i, a) in enumerate(usable):
        for j, b in usable[n + 1 :]:
            shared = set(a.blocks.split()) & set(b.blocks.split())  # type: ignore[union-attr]
            if a.sex != b.sex or not shared:
                continue
            if a.birth_year is not None and b.birth_year is not None:
                if abs(a.birth_year - b.birth_year) > 1:
                    continue
                threshold = fuzzy.THRESHOLD
            else:
                if all(sizes[(a.sex, c)] > fuzzy.UNDATED_BLOCK_LIMIT for c in shared):  # type: ignore[index]
                    continue
                threshold = fuzzy.THRESHOLD_UNDATED
            if a.dob is not None and b.dob is not None:
                if a.dob != b.dob:
                    continue
                threshold = fuzzy.THRESHOLD_SAME_DOB
            score = fuzzy.dice(a.bloom, b.bloom)  # type: ignore[arg-type]
            if score >= threshold:
                out[(min(i, j), max(i, j))] = score
    return out


@pytest.mark.parametrize("parse", ["numpy", "general"])
@pytest.mark.parametrize("chunk", [7, 1 << 19])
@pytest.mark.parametrize("limit", [200, 4])
@pytest.mark.parametrize("seed", [11, 12])
def test_candidate_pairs_equal_the_definition_pair_by_pair(monkeypatch, seed, limit, chunk, parse):
    monkeypatch.setattr(fuzzy, "UNDATED_BLOCK_LIMIT", limit)
    monkeypatch.setattr(fuzzy, "_PAIR_CHUNK", chunk)  # many small numpy steps, or one
    if parse == "general":  # the block texts parsed without the numpy fast path
        monkeypatch.setattr(fuzzy, "_memberships_of_codes", lambda texts, sexes: None)
    rows = records(seed, 150)
    got = {(min(a, b), max(a, b)): s for a, b, s in fuzzy.candidate_pairs(rows)}
    expected = brute_force(rows)
    assert len(expected) > 20
    assert got == pytest.approx(expected)


def test_block_texts_other_than_encoder_codes_take_the_general_path():
    texts = ["0123456789 abcdefabcd", "abcdefabcd", "ABCDEFABCD", "ñandú x", "0123456789"]
    assert fuzzy._memberships_of_codes(texts, [0] * 5) is None
    good = texts[:2] + texts[4:]
    block, record = fuzzy._memberships_of_codes(good, [0, 0, 1])
    general = fuzzy._memberships(good, [0, 0, 1])
    assert record.tolist() == general[1].tolist() == [0, 0, 1, 2]
    # the same grouping: records 0 and 1 share "abcdefabcd"; record 2 is another sex
    assert block[1] == block[2] and len(set(block.tolist())) == 3
    assert general[0][1] == general[0][2] and len(set(general[0].tolist())) == 3
