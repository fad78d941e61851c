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


def test_document_codes_made_from_a_copied_hmac_state_are_the_stored_e3_codes() -> None:
    """The document's codes are computed from a copied HMAC state (not remembered): they
    must stay exactly the codes ``Encoder.code`` gives for the same fields, or every
    stored ``e3`` document would stop matching a new screening's."""
    encoder = encoding.Encoder(b"k" * 32)
    number = "38567695"
    codes = encoding.unpack_codes(encoder._doc(f"dni:{number}"))
    assert codes[0] == encoder.code("doc", "dni", number)
    assert codes[1 + 3] == encoder.code("doc-mask", "dni", "8", "3", "3857695")
    swap = 1 + encoding.DOC_MASKS + 5  # positions 5 and 6 in order: "38567" + "69" + "5"
    assert codes[swap] == encoder.code("doc-swap", "dni", "8", "5", "38567695")
    assert codes[1 + 8] == 0  # an 8-character number has 8 masked codes, then zeros
