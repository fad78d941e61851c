"""Document numbers with two adjacent characters swapped ("64451326" / "64451236") are
one typo: level ``one_edit`` and compatible in one person (encoding ``doc-swap`` codes).
Before, such a pair was "different" and the clustering kept the two records apart
(synthetic data: 274 true pairs)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from caseapp.facts import cluster, encoding, model, table

KEY = bytes(range(32))
DOC = model.FIELDS.index("doc")


def record(number: str) -> encoding.LinkKeys:
    return encoding.encoder(KEY).encode(
        given_names="Fiorella",
        family_names="Yupanqui García",
        sex="F",
        date_of_birth=date(1980, 10, 17),
        birth_year=None,
        doc_type="dni",
        doc_number=number,
    )


def doc_level(x: str, y: str) -> int:
    t = table.build([record(x), record(y)])
    return int(model.compare(t, np.array([0]), np.array([1]))[0, DOC])


@pytest.mark.parametrize(
    ("x", "y", "level"),
    [
        ("64451326", "64451326", 0),
        ("64451326", "64451236", 1),  # adjacent swap
        ("64451326", "46451326", 1),  # adjacent swap at the start
        ("64451326", "64451362", 1),  # adjacent swap at the end
        ("64451326", "64451396", 1),  # one character
        ("64451326", "64451623", 2),  # non-adjacent swap
        ("64451326", "64451399", 2),  # two characters
    ],
)
def test_an_adjacent_swap_is_one_edit(x: str, y: str, level: int) -> None:
    assert doc_level(x, y) == level


def test_one_person_may_hold_a_number_and_its_adjacent_swap() -> None:
    t = table.build([record("64451326"), record("64451236"), record("64451623")])
    assert cluster.doc_compatible(t.doc[0], t.doc[1])
    assert not cluster.doc_compatible(t.doc[0], t.doc[2])


def test_every_document_has_the_same_number_of_codes() -> None:
    for number in ("1234", "64451326", "A1234567890123456789"):
        assert len(record(number).doc or b"") == encoding.DOC_CODES * 8
