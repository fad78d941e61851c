"""Keyed encodings of one screening's identity, the only thing linkage stores (ADR 0020).

Pure except for ``hmac``/``hashlib``. Every value is derived under ``INDEX_KEY`` with a
purpose prefix, so nothing here can be turned back into a name, a date or a document
number without the key, and a leaked table cannot be joined to another system's hashes:

- ``given`` / ``family``: a keyed Bloom filter (``BLOOM_BITS`` bits) of the padded bigrams
  of each name part, one per field (Schnell, Bachteler & Reiher 2011). Their Dice
  coefficient grades spelling similarity; the bigram set is order-insensitive, so
  "Quispe Mamani" equals "Mamani Quispe". A repeated part is encoded again, tagged with
  its occurrence, so "Rosa Quispe Quispe" is not "Rosa Quispe".
- ``given_value`` / ``family_value``: a keyed 64-bit code of the field's sorted parts, for
  exact agreement and the keyed frequency table (term-frequency adjustment).
- ``dob``: keyed codes of the exact date, of the date with day and month swapped, and of
  the date with each of its eight digits masked: two dates one digit apart share exactly
  one masked code, so "one edit" is seen without the dates.
- ``doc``: the document type (a code, not personal) and keyed codes of the normalized
  number, of the number with each position masked (one-edit typos) and of the number
  with each adjacent pair of characters put in order (two characters swapped).
- ``birth_year``: a small integer (an age alone gives it ±1), as before; a year and a sex
  identify nobody.
- ``blocks``: keyed 64-bit blocking keys (``blocking.keys``).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import date

from caseapp.facts.linkage import name_parts, normalize_document

ENCODING_VERSION = "e3"  # e3: given × family × year blocking key, document swap codes
BLOOM_BITS = 512
BLOOM_BYTES = BLOOM_BITS // 8
BLOOM_HASHES = 4
DOB_CODES = 10  # exact, swapped, eight masked digits
DOC_MASKS = 16  # positions of a document number that get a masked code
DOC_SWAPS = DOC_MASKS - 1  # adjacent pairs of positions that get an order-free code
DOC_CODES = 1 + DOC_MASKS + DOC_SWAPS  # exact, masked, swapped (zeros beyond the number)
SEXES = frozenset({"F", "M", "intersex"})
_CACHED_CODES = 500_000  # ~100 MB at most


@dataclass(frozen=True, slots=True)
class LinkKeys:
    """What linkage stores for one screening: keyed codes, a birth year and a sex code."""

    sex: str | None
    birth_year: int | None
    dated: bool  # an exact date of birth (not only an age)
    dob: bytes | None  # DOB_CODES × 8 bytes
    doc_type: str | None
    doc: bytes | None  # DOC_CODES × 8 bytes
    given: bytes | None  # Bloom filter
    family: bytes | None
    given_value: int | None
    family_value: int | None
    blocks: bytes  # 8 bytes per blocking key


# Spanish-aware consonant classes for a short phonetic code (blocking only): B/V/P,
# C/K/Q/G hard, S/Z/C soft/X, D/T, L/LL/Y, M/N/Ñ, R/RR, F, J/G soft/H silent.
_PHONETIC = str.maketrans(
    {
        "V": "B",
        "P": "B",
        "W": "B",
        "Q": "K",
        "C": "K",
        "G": "K",
        "Z": "S",
        "X": "S",
        "T": "D",
        "Y": "L",
        "N": "M",
        "H": "",
    }
)


@functools.lru_cache(maxsize=65_536)  # registers repeat their names
def phonetic(part: str) -> str:
    """First letter class and the next three consonant classes, vowels and repeats
    dropped ("QUISPE" → "KSB", "KISPE" → "KSB"; "MARIA" → "MR")."""
    word = part.replace("CE", "SE").replace("CI", "SI").replace("GE", "JE").replace("GI", "JI")
    word = word.replace("LL", "Y").translate(_PHONETIC)
    if not word:
        return part[:1]
    out = [word[0] if word[0] not in "AEIOU" else "A"]
    for ch in word[1:]:
        if ch in "AEIOU":
            out.append("")
            continue
        if out[-1] != ch:
            out.append(ch)
    code = "".join(c for c in out if c)
    return code[:4]


class Encoder:
    """Encodes identities under one index key; per-bigram masks are cached."""

    def __init__(self, index_key: bytes) -> None:
        if len(index_key) < 32:
            raise ValueError("the linkage index key must be at least 32 bytes")
        self._key = index_key
        self._masks: dict[str, int] = {}
        self._codes: dict[tuple[str, ...], int] = {}
        self._prefixes: dict[str, hmac.HMAC] = {}
        self.key_id = _mac(index_key, "key-id").hex()[:12]

    def code(self, purpose: str, *fields: str) -> int:
        """A keyed signed 64-bit code. Codes are remembered (up to ``_CACHED_CODES``): a
        register repeats names, years and dates, and a bulk import or a re-encoding asks
        for the same blocking keys thousands of times."""
        key = (purpose, *fields)
        found = self._codes.get(key)
        if found is None:
            if len(self._codes) >= _CACHED_CODES:
                self._codes.clear()
            found = self._codes[key] = int.from_bytes(
                _mac(self._key, purpose, *fields)[:8], "big", signed=True
            )
        return found

    def _fresh(self, purpose: str, tails: list[str]) -> list[int]:
        """Codes not remembered, as :meth:`code` makes them: ``tails`` are the fields
        after the purpose, already joined by the unit separator. The HMAC state after the
        shared prefix is computed once per purpose and copied (half the work per code)."""
        base = self._prefixes.get(purpose)
        if base is None:
            prefix = f"ruta-linkage-{ENCODING_VERSION}\x1f{purpose}\x1f"
            base = self._prefixes[purpose] = hmac.new(self._key, prefix.encode(), hashlib.sha256)
        out = []
        for tail in tails:
            mac = base.copy()
            mac.update(tail.encode("utf-8"))
            out.append(int.from_bytes(mac.digest()[:8], "big", signed=True))
        return out

    def encode(
        self,
        *,
        given_names: str | None,
        family_names: str | None,
        sex: str | None,
        date_of_birth: date | None,
        birth_year: int | None,
        doc_type: str | None,
        doc_number: str | None,
    ) -> LinkKeys:
        from caseapp.facts import blocking  # pure; blocking uses this module's helpers

        given_parts, family_parts = name_parts(given_names), name_parts(family_names)
        if not family_parts and len(given_parts) > 1:  # everything in one field
            given_parts, family_parts = given_parts[:1], given_parts[1:]
        year = date_of_birth.year if date_of_birth is not None else birth_year
        normalized = normalize_document(doc_type, doc_number)
        doc_kind = normalized.split(":", 1)[0] if normalized else None
        keys = LinkKeys(
            sex=sex if sex in SEXES else None,
            birth_year=year,
            dated=date_of_birth is not None,
            dob=self._dob(date_of_birth) if date_of_birth is not None else None,
            doc_type=doc_kind,
            doc=self._doc(normalized) if normalized else None,
            given=self._bloom("g", given_parts) if given_parts else None,
            family=self._bloom("f", family_parts) if family_parts else None,
            given_value=self.code("given", *sorted(given_parts)) if given_parts else None,
            family_value=self.code("family", *sorted(family_parts)) if family_parts else None,
            blocks=b"",
        )
        block_keys = blocking.keys(self, keys, given_parts, family_parts)
        return _with_blocks(keys, block_keys)

    def _bloom(self, field: str, parts: list[str]) -> bytes:
        bloom = 0
        seen: dict[str, int] = {}
        for part in parts:
            seen[part] = seen.get(part, 0) + 1
            tag = "" if seen[part] == 1 else f"#{seen[part]}"
            padded = f" {part} "
            for i in range(len(padded) - 1):
                gram = padded[i : i + 2] + tag
                mask = self._masks.get(gram)
                if mask is None:
                    if len(self._masks) > 200_000:
                        self._masks.clear()
                    mask = self._masks[gram] = self._mask(gram)
                bloom |= mask
        del field  # one filter layout for both fields: a swapped name still compares
        return bloom.to_bytes(BLOOM_BYTES, "big")

    def _mask(self, gram: str) -> int:
        digest = _mac(self._key, "bigram", gram)
        mask = 0
        for i in range(BLOOM_HASHES):
            mask |= 1 << (int.from_bytes(digest[2 * i : 2 * i + 2], "big") % BLOOM_BITS)
        return mask

    def _dob(self, dob: date) -> bytes:
        digits = f"{dob.year:04d}{dob.month:02d}{dob.day:02d}"
        codes = [self.code("dob", digits)]
        swapped = f"{dob.year:04d}{dob.day:02d}{dob.month:02d}"
        codes.append(self.code("dob", swapped) if dob.day <= 12 and dob.day != dob.month else 0)
        codes += [self.code("dob-mask", str(i), digits[:i] + digits[i + 1 :]) for i in range(8)]
        return struct.pack(f">{DOB_CODES}q", *codes)

    def _doc(self, normalized: str) -> bytes:
        kind, number = normalized.split(":", 1)
        head = f"{kind}\x1f{len(number)}\x1f"
        # a number's codes are its own (not remembered: they would push the names' out)
        masks = self._fresh(
            "doc-mask",
            [
                f"{head}{i}\x1f{number[:i]}{number[i + 1 :]}"
                for i in range(min(len(number), DOC_MASKS))
            ],
        )
        # each adjacent pair of characters in order: "64451326" and "64451236" share the
        # code of position 5 ("64451" + "23" + "6")
        swaps = self._fresh(
            "doc-swap",
            [
                f"{head}{i}\x1f{number[:i]}{''.join(sorted(number[i : i + 2]))}{number[i + 2 :]}"
                for i in range(min(len(number) - 1, DOC_SWAPS))
            ],
        )
        codes = self._fresh("doc", [f"{kind}\x1f{number}"])
        codes += masks + [0] * (DOC_MASKS - len(masks)) + swaps + [0] * (DOC_SWAPS - len(swaps))
        return struct.pack(f">{DOC_CODES}q", *codes)


def _with_blocks(keys: LinkKeys, block_keys: list[int]) -> LinkKeys:
    unique = sorted(set(block_keys))
    return LinkKeys(
        keys.sex,
        keys.birth_year,
        keys.dated,
        keys.dob,
        keys.doc_type,
        keys.doc,
        keys.given,
        keys.family,
        keys.given_value,
        keys.family_value,
        struct.pack(f">{len(unique)}q", *unique),
    )


def unpack_codes(blob: bytes | None) -> tuple[int, ...]:
    if not blob:
        return ()
    return struct.unpack(f">{len(blob) // 8}q", blob)


@functools.lru_cache(maxsize=4)
def encoder(index_key: bytes) -> Encoder:
    """A shared encoder per index key."""
    return Encoder(index_key)


def _mac(key: bytes, purpose: str, *fields: str) -> bytes:
    # Unit separator (0x1f) cannot occur in a normalized field, so fields cannot run together.
    message = "\x1f".join((f"ruta-linkage-{ENCODING_VERSION}", purpose, *fields))
    return hmac.digest(key, message.encode("utf-8"), hashlib.sha256)
