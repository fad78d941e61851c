"""Bounded blocking keeps the pairs of very common values (blocking.keys, MAX_BLOCK).

A block with more than ``MAX_BLOCK`` members is not used. The keys are nested so that a
pair inside too large a block is still compared through a finer key: a common name part
in a common year, and a common given × family name in any year, are too large, but the
given × family name in one year is small."""

from __future__ import annotations

import random
from datetime import date

import numpy as np

from caseapp.facts import blocking, encoding

KEY = bytes(range(32))


def record(given: str, family: str, *, dob: str | None = None, year: int | None = None):
    return encoding.encoder(KEY).encode(
        given_names=given,
        family_names=family,
        sex="F",
        date_of_birth=date.fromisoformat(dob) if dob else None,
        birth_year=year,
        doc_type=None,
        doc_number=None,
    )


def other_name(rng: random.Random) -> str:
    """A name whose phonetic code is neither MARIA's nor QUISPE's."""
    return rng.choice("LRSD") + "".join(rng.choice("AEIOULRSDT") for _ in range(6))


def test_a_pair_in_blocks_of_very_common_values_is_compared_through_the_finer_key() -> None:
    rng = random.Random(5)
    crowd = blocking.MAX_BLOCK + 10
    records = (
        # "Maria Quispe" in many years: the given × family block is too large
        [record("Maria", "Quispe", dob=f"{1900 + k}-06-15") for k in range(crowd)]
        # many Marias and many Quispes born in 2005: both part-year blocks are too large
        + [record("Maria", other_name(rng), dob=f"2005-01-{1 + k % 28:02d}") for k in range(crowd)]
        + [record(other_name(rng), "Quispe", dob=f"2005-02-{1 + k % 28:02d}") for k in range(crowd)]
        # the pair: an exact date and an age only, nothing else in common but the names
        + [record("Maria", "Quispe", dob="2005-03-04"), record("María", "Quispe", year=2005)]
    )
    i, j = blocking.candidate_pairs([r.blocks for r in records])
    n = len(records)
    assert ((i == n - 2) & (j == n - 1)).any()
    # and the crowds themselves are not compared pair by pair
    assert len(i) < 3 * crowd * crowd // 2 // 4


def test_the_finer_key_is_a_key_of_its_own_year_only() -> None:
    dated = set(np.frombuffer(record("Maria", "Quispe", dob="2005-03-04").blocks, ">i8"))
    other_year = set(np.frombuffer(record("Maria", "Quispe", dob="1990-03-04").blocks, ">i8"))
    assert len(dated & other_year) == 1  # the given × family key without a year
