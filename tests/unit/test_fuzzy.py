"""Fuzzy linkage: keyed name Bloom filters, name-pair blocks, and the merge rules."""

from __future__ import annotations

import random
from datetime import date

import pytest

from caseapp.facts import fuzzy, linkage
from devtools.synth.noise import strip_accents, typo
from devtools.synth.quality import pairwise_quality

KEY = b"k" * 32
OTHER_KEY = b"o" * 32


def enc(
    given: str | None,
    family: str | None,
    sex: str | None = "F",
    dob: date | None = None,
    key: bytes = KEY,
) -> fuzzy.NameEncoding:
    return fuzzy.Encoder(key).encode(given, family, sex, dob)


def score(a: fuzzy.NameEncoding, b: fuzzy.NameEncoding) -> float:
    assert a.bloom is not None and b.bloom is not None
    return fuzzy.dice(a.bloom, b.bloom)


def shared_blocks(a: fuzzy.NameEncoding, b: fuzzy.NameEncoding) -> set[str]:
    return set((a.blocks or "").split()) & set((b.blocks or "").split())


def test_bigrams_are_padded_per_part():
    assert fuzzy.bigrams(["ROSA"]) == {" R", "RO", "OS", "SA", "A "}
    assert fuzzy.bigrams(["AB", "BA"]) == {" A", "AB", "B ", " B", "BA", "A "}


def test_case_accents_particles_and_order_do_not_change_the_encoding():
    base = enc("Rosa María", "Quispe de la Cruz")
    for given, family in [
        ("ROSA MARIA", "QUISPE CRUZ"),
        ("rosa maría", "de la Cruz Quispe"),
        ("Quispe Cruz", "Rosa Maria"),
    ]:
        assert enc(given, family) == base


def test_one_typo_or_one_omitted_part_stays_similar_and_shares_a_block():
    base = enc("Rosa María", "Quispe Mamani")
    for given, family in [
        ("Rosa María", "Quispe Mamanu"),  # substitution
        ("Rosa Maria", "Qusipe Mamani"),  # transposition
        ("Rosa Mria", "Quispe Mamani"),  # omission
        ("Rosa", "Quispe Mamani"),
    ]:  # second given name omitted
        other = enc(given, family)
        assert score(base, other) >= 0.8, (given, family)
        assert shared_blocks(base, other)


def test_different_people_score_low_or_share_no_block():
    base = enc("Rosa María", "Quispe Mamani")
    stranger = enc("Juana", "Flores Condori")
    assert score(base, stranger) < 0.5
    assert not shared_blocks(base, stranger)
    # one shared given name and one shared surname: a block, but a low score
    cousin = enc("Rosa Elena", "Quispe Huamán")
    assert shared_blocks(base, cousin)
    assert score(base, cousin) < fuzzy.THRESHOLD


def test_nothing_to_encode_without_two_parts_or_a_matched_sex():
    assert enc("Rosa", None).bloom is None
    assert enc(None, None).blocks is None
    assert enc("Rosa", "Quispe", sex="unknown").bloom is None
    # the date of birth is encoded on its own
    assert enc(None, None, dob=date(2008, 5, 1)).dob is not None


def test_encodings_are_keyed_and_salted_by_sex():
    assert enc("Rosa", "Quispe Mamani") != enc("Rosa", "Quispe Mamani", key=OTHER_KEY)
    assert enc("Rosa", "Quispe Mamani").bloom != enc("Rosa", "Quispe Mamani", sex="M").bloom
    assert enc("A", "B", dob=date(2000, 1, 2)).dob == enc("C", "D", dob=date(2000, 1, 2)).dob
    assert enc("A", "B", dob=date(2000, 1, 2)).dob != enc("A", "B", dob=date(2000, 2, 1)).dob
    with pytest.raises(ValueError):
        fuzzy.Encoder(b"short")


def test_the_stored_values_reveal_no_name():
    e = enc("Rosa María", "Quispe Mamani", dob=date(2008, 5, 1))
    assert e.bloom is not None and len(e.bloom) == fuzzy.BITS // 8
    assert e.blocks is not None
    text = f"{e.blocks} {e.dob} {e.bloom.hex()}".upper()
    for word in ("ROSA", "MARIA", "QUISPE", "MAMANI", "2008"):
        assert word not in text


def test_dice():
    a = enc("Rosa", "Quispe Mamani").bloom
    assert a is not None
    assert fuzzy.dice(a, a) == 1.0
    assert fuzzy.dice(a, bytes(len(a))) == 0.0
    assert fuzzy.dice(bytes(4), bytes(4)) == 0.0


def record(
    given: str | None, family: str | None, year: int | None, sex: str = "F", dob: date | None = None
) -> fuzzy.FuzzyRecord:
    e = enc(given, family, sex, dob)
    return fuzzy.FuzzyRecord(sex, year, e.bloom, e.blocks, e.dob)


def pairs(*records: fuzzy.FuzzyRecord) -> set[tuple[int, int]]:
    return {(a, b) for a, b, _ in fuzzy.candidate_pairs(enumerate(records))}


# one typo and one omitted given name: Dice about 0.83, below THRESHOLD, above SAME_DOB
NAME, VARIANT = ("Rosa María", "Quispe Mamani"), ("Rosa", "Quispe Mamanu")


def test_the_variant_used_below_sits_between_the_thresholds():
    s = score(enc(*NAME), enc(*VARIANT))
    assert fuzzy.THRESHOLD_SAME_DOB <= s < fuzzy.THRESHOLD


@pytest.mark.parametrize(
    ("situation", "a", "b", "linked"),
    [
        (
            "typo, same birth year",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamanu", 2008),
            True,
        ),
        (
            "typo, birth years one apart",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamanu", 2009),
            True,
        ),
        (
            "typo, birth years two apart",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamanu", 2010),
            False,
        ),
        (
            "typo, other sex",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamanu", 2008, sex="M"),
            False,
        ),
        (
            "two changes, same date of birth",
            record(*NAME, 2008, dob=date(2008, 3, 1)),
            record(*VARIANT, 2008, dob=date(2008, 3, 1)),
            True,
        ),
        ("two changes, no dates of birth", record(*NAME, 2008), record(*VARIANT, 2008), False),
        (
            "identical names, different dates of birth",
            record(*NAME, 2008, dob=date(2008, 3, 1)),
            record(*NAME, 2008, dob=date(2008, 4, 1)),
            False,
        ),
        (
            "identical names, one without a birth year",
            record(*NAME, 2008),
            record(*NAME, None),
            True,
        ),
        (
            "transposition, one without a birth year (needs more)",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamnai", None),
            False,
        ),
        (
            "transposition, both with birth years",
            record("Rosa", "Quispe Mamani", 2008),
            record("Rosa", "Quispe Mamnai", 2008),
            True,
        ),
    ],
)
def test_candidate_pairs(situation, a, b, linked):
    assert (pairs(a, b) == {(0, 1)}) is linked, situation


def test_undated_records_are_not_compared_in_very_common_blocks():
    undated = record(*NAME, None)
    crowd = [record(*NAME, 1950 + i % 60) for i in range(fuzzy.UNDATED_BLOCK_LIMIT)]
    found = pairs(undated, *crowd)
    assert not any(0 in pair for pair in found)
    assert any(0 in pair for pair in pairs(undated, *crowd[:10]))


def test_each_pair_once():
    a, b = record("Rosa María", "Quispe Mamani", 2008), record("Rosa María", "Quispe Mamanu", 2008)
    assert (
        len(shared_blocks(enc("Rosa María", "Quispe Mamani"), enc("Rosa María", "Quispe Mamanu")))
        > 1
    )
    assert len(list(fuzzy.candidate_pairs(enumerate([a, b])))) == 1


def p(doc: str | None = None, year: int | None = None, sex: str = "F") -> linkage.Pseudonyms:
    return linkage.Pseudonyms(doc=doc, name_dob=None, name_sex_year=None, birth_year=year, sex=sex)


def test_link_merges_exact_and_fuzzy_matches_transitively():
    records = [
        (10, p("dni:1", 2008), record("Rosa", "Quispe Mamani", 2008)),
        (11, p("dni:1", 2008), record("Rosa", "Ccama Flores", 2008)),  # same document
        (12, p(None, 2008), record("Rosa", "Quispe Mamanu", 2008)),  # typo, no document
        (13, p(None, 1990), record("Juana", "Flores Condori", 1990)),
    ]
    assert fuzzy.link(records) == {10: 10, 11: 10, 12: 10, 13: 13}


def test_link_never_joins_different_documents_or_dates_of_birth():
    records = [
        (1, p("dni:1", 2008), record("Rosa", "Quispe Mamani", 2008)),
        (2, p("dni:2", 2008), record("Rosa", "Quispe Mamanu", 2008)),
    ]
    assert fuzzy.link(records) == {1: 1, 2: 2}
    records = [
        (1, p(None, 2008), record(*NAME, 2008, dob=date(2008, 3, 1))),
        (2, p(None, 2008), record(*NAME, 2008, dob=date(2008, 3, 9))),
    ]
    assert fuzzy.link(records) == {1: 1, 2: 2}
    # a third screening like both cannot bridge them: the better match wins
    records = [
        (1, p("dni:1", 2008), record("Rosa", "Quispe Mamani", 2008)),
        (2, p("dni:2", 2008), record("Rosa", "Quispe Mamanu", 2008)),
        (3, p(None, 2008), record("Rosa", "Quispe Mamani", 2008)),
    ]
    linked = fuzzy.link(records)
    assert linked[1] != linked[2]
    assert linked[3] == linked[1]  # identical name beats one typo


def test_link_does_not_depend_on_the_input_order():
    rng = random.Random(4)
    names = [
        ("Rosa", "Quispe Mamani"),
        ("Rosa", "Quispe Mamanu"),
        ("Rosa María", "Quispe"),
        ("Rosa", "Qusipe Mamani"),
        ("Juana", "Quispe Mamani"),
    ]
    records = [
        (
            i,
            p(rng.choice([None, "dni:1", "dni:2"]), 2008),
            record(*names[i % len(names)], rng.choice([2007, 2008, None])),
        )
        for i in range(40)
    ]
    expected = fuzzy.link(records)
    for _ in range(5):
        rng.shuffle(records)
        assert fuzzy.link(records) == expected


def test_synthetic_noise_stays_matchable():
    rng = random.Random(1)
    base = enc("Milagros Luana", "Huamán Ccori")
    for _ in range(50):
        noisy = typo(rng, "Huamán")
        assert noisy != "Huamán" or len("Huamán") < 3
        other = enc(strip_accents("Milagros Luana").upper(), f"{noisy} Ccori")
        assert score(base, other) >= 0.75
        assert shared_blocks(base, other)


def test_pairwise_quality_from_contingency_counts():
    truth = [1, 1, 1, 2, 2, 3]
    assert pairwise_quality(truth, truth).precision == 1.0
    assert pairwise_quality(truth, truth).recall == 1.0
    q = pairwise_quality(truth, [1, 1, 9, 2, 2, 2])  # one missed, one wrong
    assert (q.true_pairs, q.linked_pairs, q.correct_pairs) == (4, 4, 2)
    assert q.precision == 0.5 and q.recall == 0.5
    singletons = pairwise_quality([1, 2, 3], [1, 2, 3])
    assert singletons.precision == 1.0 and singletons.recall == 1.0
    with pytest.raises(ValueError):
        pairwise_quality([1], [1, 2])
