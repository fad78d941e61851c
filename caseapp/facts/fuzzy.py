"""Fuzzy person linkage for misspelt names (reports.md §3, "the next step").

Pure except for ``hmac``/``hashlib``, like ``linkage``. Three keyed pseudonyms are added
to a screening's linkage keys; none can be turned back into a name or a date without the
index key:

- ``bloom``: a cryptographic long-term key (CLK; Schnell, Bachteler & Reiher 2011): the
  bigrams of the normalized name parts are hashed into a Bloom filter of ``BITS`` bits,
  each bigram setting ``HASHES`` positions chosen by HMAC-SHA256 of the index key, the sex
  and the bigram. Similar names give filters with a high Dice coefficient: a typo changes
  two or three of about twenty bigrams. The sex salts the encoding: only same-sex
  screenings are compared, and the same name encodes differently for women and men.
- ``blocks``: a short keyed code (``BLOCK_HEX`` hex digits of an HMAC) for every pair of
  name parts. Screenings are compared only when they share a pair, so at least two of
  their name parts are spelt alike; this keeps the comparisons near-linear and survives a
  typo or an omitted name part in a third. Pairs rather than single parts, so the table
  does not show how common each name is.
- ``dob``: a keyed code of the date of birth, to tell "same date of birth" (a lower name
  threshold) from "different dates of birth" (never merged).

Two screenings are the same person (a fuzzy match) when they share a block and a sex
(``F``, ``M`` or ``intersex``) and their name filters have a Dice coefficient of at least

- ``THRESHOLD_SAME_DOB`` if both have the same date of birth,
- ``THRESHOLD`` if their birth years are at most one year apart (as in the exact key),
- ``THRESHOLD_UNDATED`` if one has no birth year at all (only in blocks of at most
  ``UNDATED_BLOCK_LIMIT`` screenings: a pair of names that common identifies nobody).

``link`` merges fuzzy matches with the exact matches of ``linkage.link``, best score
first, and never joins two persons whose documents, or whose dates of birth, are all
different. The thresholds were chosen on synthetic data with realistic noise
(docs/decisions/0006-synthetic-data-and-linkage-quality.md).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np

from caseapp.facts import linkage

FUZZY_VERSION = "v1"
BITS = 1024
HASHES = 10
BLOCK_HEX = 10
DOB_HEX = 16
MAX_PARTS = 6
THRESHOLD = 0.85
THRESHOLD_SAME_DOB = 0.65
THRESHOLD_UNDATED = 0.9
UNDATED_BLOCK_LIMIT = 200
_SEXES = frozenset({"F", "M", "intersex"})

RecordId = TypeVar("RecordId", int, str)


@dataclass(frozen=True, slots=True)
class NameEncoding:
    """The fuzzy pseudonyms of one screening (``None`` when there is nothing to encode:
    fewer than two name parts, a sex that is not matched, no date of birth)."""

    bloom: bytes | None
    blocks: str | None
    dob: str | None


@dataclass(frozen=True, slots=True)
class FuzzyRecord:
    """The stored values fuzzy matching reads for one screening."""

    sex: str | None
    birth_year: int | None
    bloom: bytes | None
    blocks: str | None
    dob: str | None = None


class Encoder:
    """Encodes names under one index key; each bigram's bit mask is computed once."""

    def __init__(self, index_key: bytes) -> None:
        if len(index_key) < 32:
            raise ValueError("the linkage index key must be at least 32 bytes")
        self._key = index_key
        self._masks: dict[tuple[str, str], int] = {}
        self._pairs: dict[tuple[str, str], str] = {}

    def encode(
        self,
        given_names: str | None,
        family_names: str | None,
        sex: str | None,
        date_of_birth: date | None = None,
    ) -> NameEncoding:
        dob = (
            _hmac(self._key, "dob", date_of_birth.isoformat()).hex()[:DOB_HEX]
            if date_of_birth is not None
            else None
        )
        parts = linkage.normalize_name(given_names, family_names).split()
        if len(parts) < 2 or sex not in _SEXES:
            return NameEncoding(None, None, dob)
        parts = sorted(set(parts[:MAX_PARTS]))
        bloom = 0
        for gram in bigrams(parts):
            mask = self._masks.get((sex, gram))
            if mask is None:
                mask = self._masks[(sex, gram)] = self._mask(sex, gram)
            bloom |= mask
        codes = []
        for pair in itertools.combinations(parts, 2):
            code = self._pairs.get(pair)
            if code is None:
                if len(self._pairs) > 500_000:
                    self._pairs.clear()
                code = self._pairs[pair] = _hmac(self._key, "pair", *pair).hex()[:BLOCK_HEX]
            codes.append(code)
        return NameEncoding(bloom.to_bytes(BITS // 8, "big"), " ".join(sorted(codes)), dob)

    def _mask(self, sex: str, gram: str) -> int:
        """``HASHES`` bit positions from 16-bit slices of one HMAC-SHA256."""
        digest = _hmac(self._key, "clk", sex, gram)
        mask = 0
        for i in range(HASHES):
            mask |= 1 << (int.from_bytes(digest[2 * i : 2 * i + 2], "big") % BITS)
        return mask


@functools.lru_cache(maxsize=4)
def encoder(index_key: bytes) -> Encoder:
    """A shared encoder per index key, so its bigram masks are computed once."""
    return Encoder(index_key)


def bigrams(parts: Iterable[str]) -> set[str]:
    """Bigrams of each part padded with spaces ("ROSA" → " R", "RO", "OS", "SA", "A ")."""
    grams: set[str] = set()
    for part in parts:
        padded = f" {part} "
        grams.update(padded[i : i + 2] for i in range(len(padded) - 1))
    return grams


def dice(a: bytes, b: bytes) -> float:
    """Dice coefficient of two Bloom filters: 2|a ∧ b| / (|a| + |b|)."""
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    total = x.bit_count() + y.bit_count()
    return 2 * (x & y).bit_count() / total if total else 0.0


def _hmac(key: bytes, purpose: str, *fields: str) -> bytes:
    # Unit separator (0x1f) cannot occur in a normalized field, so fields cannot run together.
    message = "\x1f".join((f"ruta-fuzzy-{FUZZY_VERSION}", purpose, *fields))
    return hmac.digest(key, message.encode("utf-8"), hashlib.sha256)


def candidate_pairs(
    records: Iterable[tuple[RecordId, FuzzyRecord]],
) -> Iterator[tuple[RecordId, RecordId, float]]:
    """Pairs of records that fuzzy-match (module docstring), with their Dice coefficient;
    each pair once, in no particular order.

    The dated pairs (birth years at most one apart, in a shared block) are tens of
    millions at a million persons, mostly in the blocks of common names; they are
    generated and scored with numpy in chunks (AND and popcount of the filters), so the
    Python loop runs once per record, not once per pair or block. The undated pairs, in
    small blocks only, are generated and scored the same way.
    """
    ids: list[RecordId] = []
    years: list[int] = []
    dobs: list[int] = []  # a small integer per distinct date-of-birth code; -1: none
    dob_ids: dict[str, int] = {}
    blooms = bytearray()
    sexes: list[int] = []
    texts: list[str] = []
    for record_id, r in records:
        if r.bloom is None or not r.blocks or r.sex not in _SEX_NUMBER:
            continue
        if len(r.bloom) != BITS // 8:
            raise ValueError(f"a name filter must be {BITS // 8} bytes")
        ids.append(record_id)
        years.append(_NO_YEAR if r.birth_year is None else r.birth_year)
        dobs.append(-1 if r.dob is None else dob_ids.setdefault(r.dob, len(dob_ids)))
        blooms += r.bloom
        sexes.append(_SEX_NUMBER[r.sex])
        texts.append(r.blocks)
    if len(ids) < 2:
        return
    scorer = _Scorer(blooms, len(ids), np.array(dobs, dtype=np.int64))
    year = np.array(years, dtype=np.int64)
    block, record = _memberships_of_codes(texts, sexes) or _memberships(texts, sexes)
    found = [scorer.dated_pairs(block, record, year)]
    found.append(scorer.undated_pairs(block, record, year))
    lo = np.concatenate([f[0] for f in found])
    hi = np.concatenate([f[1] for f in found])
    score = np.concatenate([f[2] for f in found])
    # a pair sharing several blocks was found in each: keep it once
    _, first = np.unique(lo * len(ids) + hi, return_index=True)
    for i, j, s in zip(lo[first].tolist(), hi[first].tolist(), score[first].tolist(), strict=True):
        yield ids[i], ids[j], s


_NO_YEAR = -(1 << 40)
_PAIR_CHUNK = 1 << 16
"""Pairs scored per numpy step (two chunk × 16 uint64 arrays, 8 MB each: they stay in
the processor's caches; larger chunks spend their time faulting in fresh memory)."""
_SEX_NUMBER = {sex: n for n, sex in enumerate(sorted(_SEXES))}
_HEX_DIGIT = np.full(256, 255, dtype=np.uint8)
_HEX_DIGIT[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)


def _memberships(texts: list[str], sexes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(block number, record number) of every block code of every record; a block is a
    code within a sex. Any text of codes (the general path)."""
    numbers: dict[tuple[int, str], int] = {}
    block: list[int] = []
    record: list[int] = []
    for i, (text, sex) in enumerate(zip(texts, sexes, strict=True)):
        for code in text.split():
            block.append(numbers.setdefault((sex, code), len(numbers)))
            record.append(i)
    return np.array(block, dtype=np.int64), np.array(record, dtype=np.int64)


def _memberships_of_codes(
    texts: list[str], sexes: list[int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``_memberships`` for texts of ``BLOCK_HEX`` lower-case hex digits separated by
    single spaces (what ``Encoder`` writes), parsed with numpy; ``None`` for any other
    text. The block "numbers" are the sex and the code's value (not consecutive), which
    group the same memberships as ``_memberships``'."""
    width = BLOCK_HEX + 1
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if ((lengths + 1) % width).any():
        return None
    try:
        raw = (" ".join(texts) + " ").encode("ascii")
    except UnicodeEncodeError:
        return None
    cells = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    digits = _HEX_DIGIT[cells[:, :BLOCK_HEX]]
    if (cells[:, BLOCK_HEX] != ord(" ")).any() or (digits == 255).any():
        return None
    value = np.zeros(len(cells), dtype=np.int64)
    for column in range(BLOCK_HEX):
        value = (value << 4) | digits[:, column]
    record = np.repeat(np.arange(len(texts), dtype=np.int64), (lengths + 1) // width)
    sex = np.array(sexes, dtype=np.int64)[record]
    return (sex << (4 * BLOCK_HEX)) | value, record


class _Scorer:
    """Scores pairs of records on their name filters.

    Pairs are given as positions in a list of block memberships sorted by block: both
    records of a pair are members of the same block, so the filters of a chunk's span of
    memberships are gathered once and the pairs read them close together (gathering
    each pair's filters from the whole table is memory-bound: most of the time).
    """

    def __init__(self, blooms: bytearray, n: int, dobs: np.ndarray) -> None:
        self.blooms = np.frombuffer(bytes(blooms), dtype=np.uint64).reshape(n, BITS // 64)
        self.counts = np.bitwise_count(self.blooms).sum(axis=1, dtype=np.int64)
        self.dobs = dobs

    def score(
        self, record: np.ndarray, first: np.ndarray, second: np.ndarray, threshold: float
    ) -> tuple[np.ndarray, ...]:
        """The pairs (record[first[k]], record[second[k]]) that match at ``threshold``
        (``THRESHOLD_SAME_DOB`` when both have the same date of birth; never when their
        dates differ), as (smaller record, larger record, Dice coefficient)."""
        if not len(first):
            return _empty_pairs()
        base = int(min(first.min(), second.min()))
        span = record[base : int(max(first.max(), second.max())) + 1]
        blooms, counts = self.blooms[span], self.counts[span]
        i, j = first - base, second - base
        common = _popcount_rows(np.take(blooms, i, axis=0) & np.take(blooms, j, axis=0))
        total = counts[i] + counts[j]
        # the same test, in the same floating point, as a one-pair comparison
        near = np.flatnonzero(2 * common >= THRESHOLD_SAME_DOB * total)
        a, b = span[i[near]], span[j[near]]
        common, total = common[near], total[near]
        dob_a, dob_b = self.dobs[a], self.dobs[b]
        both = (dob_a >= 0) & (dob_b >= 0)
        same = both & (dob_a == dob_b)
        limit = np.where(same, THRESHOLD_SAME_DOB, threshold)
        ok = (~both | same) & (2 * common >= limit * total) & (a != b)
        a, b, common, total = a[ok], b[ok], common[ok], total[ok]
        return np.minimum(a, b), np.maximum(a, b), 2 * common / total

    def chunks(
        self,
        record: np.ndarray,
        first: np.ndarray,
        partners: np.ndarray,
        follower: np.ndarray,
        threshold: float,
    ) -> tuple[np.ndarray, ...]:
        """Score, chunk by chunk, the pairs (first[k], follower[k] + m) for m in
        range(partners[k]) (positions into ``record``)."""
        keep = partners > 0
        first, partners, follower = first[keep], partners[keep], follower[keep]
        upto = np.cumsum(partners)
        out: list[tuple[np.ndarray, ...]] = []
        lo, done = 0, 0
        while lo < len(first):
            hi = max(lo + 1, int(np.searchsorted(upto, done + _PAIR_CHUNK, side="right")))
            c = partners[lo:hi]
            offset = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
            out.append(
                self.score(
                    record,
                    np.repeat(first[lo:hi], c),
                    np.repeat(follower[lo:hi], c) + offset,
                    threshold,
                )
            )
            done = int(upto[hi - 1])
            lo = hi
        return _concat(out)

    def dated_pairs(
        self, block: np.ndarray, record: np.ndarray, year: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """Every pair in a shared block whose birth years are at most one apart."""
        dated = year[record] != _NO_YEAR
        block, record = block[dated], record[dated]
        years = year[record]
        if len(record) < 2:
            return _empty_pairs()
        order = np.lexsort((record, years, block))
        block, record, years = block[order], record[order], years[order] - years.min()
        # sorted by (block, year): a member's partners are the following members of its
        # block up to the last one born the next year
        key = _runs(block) * (1 << 22) + np.minimum(years, (1 << 22) - 2)
        end = np.searchsorted(key, key + 1, side="right")
        position = np.arange(len(key))
        return self.chunks(record, position, end - position - 1, position + 1, THRESHOLD)

    def undated_pairs(
        self, block: np.ndarray, record: np.ndarray, year: np.ndarray
    ) -> tuple[np.ndarray, ...]:
        """A record without a birth year against every other member of its blocks, in
        blocks of at most ``UNDATED_BLOCK_LIMIT`` members only; two undated members of a
        block once."""
        # undated members first within each block: each undated member pairs with the
        # members after it (the later undated ones and every dated one)
        order = np.lexsort((record, year[record] != _NO_YEAR, block))
        block, record = block[order], record[order]
        run = _runs(block)
        starts = np.flatnonzero(np.diff(run, prepend=-1))
        sizes = np.diff(starts, append=len(block))
        undated = year[record] == _NO_YEAR
        eligible = undated[starts] & (sizes >= 2) & (sizes <= UNDATED_BLOCK_LIMIT)
        first = np.flatnonzero(undated & eligible[run])
        end = (starts + sizes)[run[first]]
        return self.chunks(record, first, end - first - 1, first + 1, THRESHOLD_UNDATED)


def _runs(sorted_values: np.ndarray) -> np.ndarray:
    """For a sorted array, the number of each position's run of equal values (0, 1, …)."""
    if not len(sorted_values):
        return np.zeros(0, dtype=np.int64)
    changes = (sorted_values[1:] != sorted_values[:-1]).astype(np.int64)
    return np.concatenate(([0], np.cumsum(changes)))


_BYTES = np.uint64(0x00FF00FF00FF00FF)
if BITS != 16 * 64:
    raise RuntimeError("_popcount_rows adds the counts of 16 words")


def _popcount_rows(rows: np.ndarray) -> np.ndarray:
    """Set bits per row of 16 uint64 words: the per-word counts (bytes, ≤ 64) of the
    two halves added bytewise (≤ 128), then in 16-bit lanes (≤ 256), then the four lanes
    by one multiplication (≤ 1024): several times faster than ``sum(axis=1)``."""
    words = np.bitwise_count(rows).view(np.uint64)  # (n, 2): eight byte counts each
    words = words[:, 0] + words[:, 1]
    words = (words & _BYTES) + ((words >> np.uint64(8)) & _BYTES)
    return ((words * np.uint64(0x0001000100010001)) >> np.uint64(48)).astype(np.int64)


def _empty_pairs() -> tuple[np.ndarray, ...]:
    none = np.zeros(0, dtype=np.int64)
    return none, none, np.zeros(0, dtype=np.float64)


def _concat(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    if not parts:
        return _empty_pairs()
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def pairs_with(
    record: FuzzyRecord, others: Iterable[tuple[RecordId, FuzzyRecord]]
) -> Iterator[tuple[RecordId, float]]:
    """The records of ``others`` that fuzzy-match ``record``, with their Dice coefficient:
    exactly the pairs with ``record`` that ``candidate_pairs`` finds among ``record`` and
    ``others`` (block sizes included), without comparing ``others`` among themselves,
    which for a common pair of names is hundreds of thousands of comparisons."""
    if record.bloom is None or not record.blocks or record.sex not in _SEXES:
        return
    own_codes = record.blocks.split()
    mine = set(own_codes)
    rows = [
        (record_id, r, shared)
        for record_id, r in others
        if r.bloom is not None
        and r.blocks
        and r.sex == record.sex
        and (shared := mine.intersection(r.blocks.split()))
    ]
    # members of each of this record's blocks, counted as candidate_pairs counts them
    sizes = dict.fromkeys(mine, 0)
    for code in own_codes:
        sizes[code] += 1
    for _, r, _ in rows:
        for code in r.blocks.split():  # type: ignore[union-attr]
            if code in sizes:
                sizes[code] += 1
    bloom = int.from_bytes(record.bloom, "big")
    count = bloom.bit_count()
    for record_id, r, shared in rows:
        if record.birth_year is not None and r.birth_year is not None:
            if abs(record.birth_year - r.birth_year) > 1:
                continue
            threshold = THRESHOLD
        else:
            if all(sizes[code] > UNDATED_BLOCK_LIMIT for code in shared):
                continue
            threshold = THRESHOLD_UNDATED
        other = int.from_bytes(r.bloom, "big")  # type: ignore[arg-type]
        common = (bloom & other).bit_count()
        total = count + other.bit_count()
        if 2 * common < THRESHOLD_SAME_DOB * total:
            continue
        if record.dob is not None and r.dob is not None:
            if record.dob != r.dob:
                continue
            threshold = THRESHOLD_SAME_DOB
        if 2 * common >= threshold * total:
            yield record_id, 2 * common / total


def link(
    records: Iterable[tuple[RecordId, linkage.Pseudonyms, FuzzyRecord]],
) -> dict[RecordId, RecordId]:
    """Exact matches (``linkage.link``) and fuzzy matches in one union-find; each record
    maps to the smallest record id of its connected component.

    Fuzzy matches are merged best first, and never join two persons whose documents, or
    whose dates of birth, are all different: a similar name does not outweigh them.
    """
    rows = list(records)
    exact = linkage.link((record_id, p) for record_id, p, _ in rows)
    docs: dict[RecordId, set[str]] = defaultdict(set)
    dobs: dict[RecordId, set[str]] = defaultdict(set)
    for record_id, p, f in rows:
        if p.doc:
            docs[exact[record_id]].add(p.doc)
        if f.dob:
            dobs[exact[record_id]].add(f.dob)
    parent: dict[RecordId, RecordId] = {}

    def find(x: RecordId) -> RecordId:
        root = x
        while (up := parent.get(root, root)) != root:
            root = up
        while (up := parent.get(x, x)) != root:
            parent[x] = root
            x = up
        return root

    # best first; ties in id order, so the result does not depend on the input order
    pairs = sorted(
        (-score, min(a, b), max(a, b))
        for a, b, score in candidate_pairs((record_id, f) for record_id, _, f in rows)
    )
    for _, a, b in pairs:
        ra, rb = find(exact[a]), find(exact[b])
        if ra == rb or disjoint(docs, ra, rb) or disjoint(dobs, ra, rb):
            continue
        root, child = (ra, rb) if ra < rb else (rb, ra)
        parent[child] = root
        for evidence in (docs, dobs):
            if child in evidence:
                evidence[root] |= evidence.pop(child)
    return {record_id: find(person) for record_id, person in exact.items()}


def disjoint(evidence: Mapping[RecordId, set[str]], a: RecordId, b: RecordId) -> bool:
    """Both persons have values and share none (e.g. two different documents)."""
    ea, eb = evidence.get(a), evidence.get(b)
    return bool(ea and eb and ea.isdisjoint(eb))
