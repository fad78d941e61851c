"""The encoded records of one linkage run as numpy columns (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from caseapp.facts.encoding import BLOOM_BYTES, DOB_CODES, DOC_CODES, LinkKeys

NO_YEAR = -(1 << 30)
_SEX = {"F": 0, "M": 1, "intersex": 2}
DOC_TYPES: dict[str, int] = {}
#: "other" is any document: a person may hold several, so two "other" numbers are
#: evidence (compared), never a conflict
LOOSE_DOCUMENTS = frozenset({"other"})


@dataclass
class Table:
    n: int
    sex: np.ndarray  # int8, -1 missing
    year: np.ndarray  # int64, NO_YEAR missing
    dated: np.ndarray  # bool
    dob: np.ndarray  # (n, DOB_CODES) int64, zeros missing
    doc_type: np.ndarray  # int64, -1 missing
    doc: np.ndarray  # (n, DOC_CODES) int64, zeros missing
    doc_strict: np.ndarray  # bool: a typed identity document (one per person and type)
    given: np.ndarray  # (n, BLOOM_BYTES // 8) uint64
    family: np.ndarray
    given_count: np.ndarray  # set bits, 0 missing
    family_count: np.ndarray
    given_value: np.ndarray  # int64, 0 missing
    family_value: np.ndarray
    blocks: list[bytes]
    #: the columns of ``doc`` after the exact code that some record fills (masked and
    #: swapped codes: zero beyond a number's length)
    doc_columns: tuple[int, ...]


def _bloom_rows(values: Sequence[bytes | None]) -> np.ndarray:
    raw = b"".join(v if v else bytes(BLOOM_BYTES) for v in values)
    return np.frombuffer(raw, dtype=np.uint64).reshape(len(values), BLOOM_BYTES // 8).copy()


def _codes(values: Sequence[bytes | None], width: int) -> np.ndarray:
    """The first ``width`` big-endian codes of each value, zeros where it has fewer."""
    size = 8 * width
    raw = b"".join((v or b"")[:size].ljust(size, b"\0") for v in values)
    return np.frombuffer(raw, dtype=">i8").astype(np.int64).reshape(len(values), width)


def build(records: Sequence[LinkKeys]) -> Table:
    n = len(records)
    given = _bloom_rows([r.given for r in records])
    family = _bloom_rows([r.family for r in records])
    doc = _codes([r.doc for r in records], DOC_CODES)
    return Table(
        n=n,
        sex=np.array([_SEX.get(r.sex or "", -1) for r in records], dtype=np.int8),
        year=np.array(
            [NO_YEAR if r.birth_year is None else r.birth_year for r in records], dtype=np.int64
        ),
        dated=np.array([r.dated and r.dob is not None for r in records], dtype=bool),
        dob=_codes([r.dob for r in records], DOB_CODES),
        doc_type=np.array(
            [
                DOC_TYPES.setdefault(r.doc_type, len(DOC_TYPES)) if r.doc_type else -1
                for r in records
            ],
            dtype=np.int64,
        ),
        doc=doc,
        doc_strict=np.array(
            [r.doc_type is not None and r.doc_type not in LOOSE_DOCUMENTS for r in records],
            dtype=bool,
        ),
        given=given,
        family=family,
        given_count=np.bitwise_count(given).sum(axis=1, dtype=np.int64),
        family_count=np.bitwise_count(family).sum(axis=1, dtype=np.int64),
        given_value=np.array([r.given_value or 0 for r in records], dtype=np.int64),
        family_value=np.array([r.family_value or 0 for r in records], dtype=np.int64),
        blocks=[r.blocks for r in records],
        doc_columns=tuple(int(k) + 1 for k in np.flatnonzero(doc[:, 1:].any(axis=0))),
    )
