"""Blocking: which pairs of records are compared at all (ADR 0020).

Each record gets several keyed 64-bit blocking keys; two records are compared when they
share one. The keys survive a typo in any single field:

- the exact date of birth; the document (type and number);
- the phonetic code of each name part (given or family, so swapped fields still meet)
  with the birth year (an age-only record files itself under year−1, year and year+1);
- the phonetic codes of a given part and a family part together, without the year (a
  wrong or missing year), and the same with the birth year (years as above).

Work is bounded: a block with more than ``MAX_BLOCK`` members (a very common name in a
common year) is not used — the other keys of its members still bring true pairs
together — so the number of pairs grows linearly with the records. The keys are nested
for that: a common name part in a common year ("MR", 2005) is too large a block, but
given × family × year ("MR", "KSB", 2005) inside it is small, so the pairs of a very
common value are still compared, by the finer key, instead of being dropped with the
coarse one. A register ten times larger makes every block ten times larger; the finer
keys keep most true pairs then (synthetic data, 100,000 persons, blocks limited to 10
members as a stand-in for 100 at a tenfold register: recall 0.940 with the finer key,
0.890 without it; 0.949 at the limit of 50 either way).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from caseapp.facts.encoding import Encoder, LinkKeys

MAX_BLOCK = 50
_CHUNK = 1 << 20
_PARALLEL_SORT = 4_000_000


def keys(
    encoder: Encoder, record: LinkKeys, given_parts: list[str], family_parts: list[str]
) -> list[int]:
    """The blocking keys of one encoded record."""
    from caseapp.facts.encoding import phonetic, unpack_codes

    out: list[int] = []
    if record.dob is not None:
        out.append(encoder.code("block-dob", str(unpack_codes(record.dob)[0])))
    if record.doc is not None:
        out.append(encoder.code("block-doc", str(unpack_codes(record.doc)[0])))
    sounds = sorted({phonetic(p) for p in given_parts + family_parts if len(p) > 1})
    years: tuple[int, ...] = ()
    if record.birth_year is not None:
        years = (
            (record.birth_year,)
            if record.dated
            else (record.birth_year - 1, record.birth_year, record.birth_year + 1)
        )
        for sound in sounds:
            for year in years:
                out.append(encoder.code("block-part-year", sound, str(year)))
    given = sorted({phonetic(p) for p in given_parts[:3] if len(p) > 1})
    family = sorted({phonetic(p) for p in family_parts[:3] if len(p) > 1})
    for g in given:
        for f in family:
            pair = sorted((g, f))
            out.append(encoder.code("block-pair", *pair))
            for year in years:
                out.append(encoder.code("block-pair-year", *pair, str(year)))
    return out


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array, as ``np.unique`` returns them.
    NumPy 2.3+ answers plain ``np.unique`` on integers with a hash table that is tens of
    times slower than sorting at millions of values (20 M pairs: 30 s vs 0.5 s)."""
    if len(values) == 0:
        return values
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


def candidate_pairs(
    block_lists: list[bytes], limit: int = MAX_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of records sharing a blocking key of a block of at most
    ``limit`` members, each pair once."""
    lengths = np.fromiter(
        (len(b) // 8 for b in block_lists), dtype=np.int64, count=len(block_lists)
    )
    if not lengths.sum():
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    key = np.frombuffer(b"".join(block_lists), dtype=">i8").astype(np.int64)
    record = np.repeat(np.arange(len(block_lists), dtype=np.int64), lengths)
    order = np.lexsort((record, key))
    key, record = key[order], record[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    sizes = np.diff(np.r_[starts, len(key)])
    keep = (sizes >= 2) & (sizes <= limit)
    starts, sizes = starts[keep], sizes[keep]
    found: list[np.ndarray] = []
    # pairs (start+a, start+b), a < b, per block, generated block-size by block-size
    for size in distinct(sizes).tolist():
        a, b = np.triu_indices(size, k=1)
        block_starts = starts[sizes == size]
        for lo in range(0, len(block_starts), max(1, _CHUNK // max(1, len(a)))):
            s = block_starts[lo : lo + max(1, _CHUNK // max(1, len(a)))]
            i = record[(s[:, None] + a[None, :]).ravel()]
            j = record[(s[:, None] + b[None, :]).ravel()]
            found.append(np.minimum(i, j) * len(block_lists) + np.maximum(i, j))
    if not found:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = _sorted_distinct(found)
    n = len(block_lists)
    return pairs // n, pairs % n


def _sorted_distinct(found: list[np.ndarray]) -> np.ndarray:
    """The distinct values of the pieces, sorted. Above a few million values the pieces
    are split at a sampled median and the two halves sorted on two threads (NumPy's sort
    releases the GIL); equal values fall in the same half. ``found`` is emptied: the
    pieces go before the sort, so peak memory is one copy of the pairs (and its halves)."""
    total = sum(len(p) for p in found)
    if total < _PARALLEL_SORT:
        halves = [np.concatenate(found)]
    else:
        cut = np.median(np.concatenate([p[::101] for p in found]))
        halves = [
            np.concatenate([p[p < cut] for p in found]),
            np.concatenate([p[p >= cut] for p in found]),
        ]
    found.clear()

    def sort(values: np.ndarray) -> np.ndarray:
        values.sort()  # in place: no second copy
        return values[np.r_[True, values[1:] != values[:-1]]]

    if len(halves) == 1:
        return sort(halves[0])
    with ThreadPoolExecutor(2, thread_name_prefix="linkage-sort") as pool:
        return np.concatenate(list(pool.map(sort, halves)))
