"""The encoded records of one linkage run as numpy columns (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

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
    return build_columns(*([getattr(r, c) for r in records] for c in _FIELDS))


_FIELDS = tuple(f.name for f in fields(LinkKeys))


def build_columns(
    sex: Sequence[str | None],
    birth_year: Sequence[int | None],
    dated: Sequence[Any],
    dob: Sequence[bytes | None],
    doc_type: Sequence[str | None],
    doc: Sequence[bytes | None],
    given: Sequence[bytes | None],
    family: Sequence[bytes | None],
    given_value: Sequence[int | None],
    family_value: Sequence[int | None],
    blocks: Sequence[bytes | None],
) -> Table:
    """The table of records given column by column (``LinkKeys``' fields, in its order),
    as the stored encodings are read: ``dated`` may be 0/1, ``blocks`` ``None``."""
    n = len(sex)
    given_rows = _bloom_rows(given)
    family_rows = _bloom_rows(family)
    doc_codes = _codes(doc, DOC_CODES)
    return Table(
        n=n,
        sex=np.array([_SEX.get(s or "", -1) for s in sex], dtype=np.int8),
        year=np.array([NO_YEAR if y is None else y for y in birth_year], dtype=np.int64),
        dated=np.array(
            [bool(d) and x is not None for d, x in zip(dated, dob, strict=True)], dtype=bool
        ),
        dob=_codes(dob, DOB_CODES),
        doc_type=np.array(
            [DOC_TYPES.setdefault(d, len(DOC_TYPES)) if d else -1 for d in doc_type],
            dtype=np.int64,
        ),
        doc=doc_codes,
        doc_strict=np.array(
            [d is not None and d not in LOOSE_DOCUMENTS for d in doc_type], dtype=bool
        ),
        given=given_rows,
        family=family_rows,
        given_count=np.bitwise_count(given_rows).sum(axis=1, dtype=np.int64),
        family_count=np.bitwise_count(family_rows).sum(axis=1, dtype=np.int64),
        given_value=np.array([v or 0 for v in given_value], dtype=np.int64),
        family_value=np.array([v or 0 for v in family_value], dtype=np.int64),
        blocks=[b or b"" for b in blocks],
        doc_columns=tuple(int(k) + 1 for k in np.flatnonzero(doc_codes[:, 1:].any(axis=0))),
    )
