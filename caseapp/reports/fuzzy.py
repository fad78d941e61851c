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

from caseapp.reports import linkage

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
            mask |= 1 << (int.from_bytes(digest[2 * i:2 * i + 2], "big") % BITS)
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
        grams.update(padded[i:i + 2] for i in range(len(padded) - 1))
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
    each pair once, in no particular order."""
    ids: list[RecordId] = []
    years: list[int | None] = []
    dobs: list[str | None] = []
    blooms: list[int] = []
    counts: list[int] = []
    # blocks per sex, then per code: a block is (sex, code); no tuple key per entry
    by_sex: dict[str, dict[str, list[int]]] = {sex: {} for sex in sorted(_SEXES)}
    for record_id, r in records:
        if r.bloom is None or not r.blocks or r.sex not in _SEXES:
            continue
        i = len(ids)
        bloom = int.from_bytes(r.bloom, "big")
        ids.append(record_id)
        years.append(r.birth_year)
        dobs.append(r.dob)
        blooms.append(bloom)
        counts.append(bloom.bit_count())
        sex_blocks = by_sex[r.sex]
        for code in r.blocks.split():
            block = sex_blocks.get(code)
            if block is None:
                sex_blocks[code] = [i]
            else:
                block.append(i)

    found: dict[tuple[int, int], float] = {}

    def matched(i: int, j: int, common: int, total: int, threshold: float) -> None:
        """The pair passed the lowest threshold: apply the date-of-birth rules."""
        dob_i, dob_j = dobs[i], dobs[j]
        if dob_i is not None and dob_j is not None:
            if dob_i != dob_j:
                return
            threshold = THRESHOLD_SAME_DOB
        if 2 * common >= threshold * total:
            found[(i, j) if i < j else (j, i)] = 2 * common / total

    def consider(i: int, j: int, threshold: float) -> None:
        # Integer arithmetic first; most pairs of a block fail even the lowest threshold.
        common = (blooms[i] & blooms[j]).bit_count()
        total = counts[i] + counts[j]
        if 2 * common >= THRESHOLD_SAME_DOB * total:
            matched(i, j, common, total, threshold)

    lowest = THRESHOLD_SAME_DOB
    for members in itertools.chain.from_iterable(b.values() for b in by_sex.values()):
        if len(members) < 2:
            continue
        by_year = sorted((year, i) for i in members if (year := years[i]) is not None)
        dated = [i for _, i in by_year]
        # The dated pairs (birth years at most one apart) are most of the work (tens of
        # millions at a million persons, mostly in the blocks of common names): the same
        # test as ``consider``, inlined over block-local lists, with the end of each
        # record's year window found by a pointer that only moves forward.
        block_years = [year for year, _ in by_year]
        block_blooms = [blooms[i] for i in dated]
        block_counts = [counts[i] for i in dated]
        size = len(dated)
        end = 0
        for n in range(size - 1):
            last_year = block_years[n] + 1
            end = max(end, n + 1)
            while end < size and block_years[end] <= last_year:
                end += 1
            bloom_n, count_n = block_blooms[n], block_counts[n]
            for m in range(n + 1, end):
                total = count_n + block_counts[m]
                common = (bloom_n & block_blooms[m]).bit_count()
                if 2 * common >= lowest * total:
                    matched(dated[n], dated[m], common, total, THRESHOLD)
        if len(dated) == len(members) or len(members) > UNDATED_BLOCK_LIMIT:
            continue
        undated = [i for i in members if years[i] is None]
        for n, i in enumerate(undated):
            for j in itertools.chain(undated[n + 1:], dated):
                consider(i, j, THRESHOLD_UNDATED)
    for (i, j), score in found.items():
        yield ids[i], ids[j], score


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
        if r.bloom is not None and r.blocks and r.sex == record.sex
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
