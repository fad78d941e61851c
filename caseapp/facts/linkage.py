"""Privacy-preserving record linkage: unduplicated persons across organizations (reports.md §3).

Pure except for `hmac`/`hashlib`. Screening stores only the keyed pseudonyms made here;
`link` groups screenings into persons from those pseudonyms alone.

Three match keys, each an HMAC-SHA256 of a purpose-prefixed message, so a document
pseudonym can never equal a name pseudonym and a leaked table cannot be joined to
another system's plain SHA-256 of the same document:

- `doc`: document type + normalized number (`normalize_document`).
- `name_dob`: normalized full name (`normalize_name`) + ISO date of birth.
- `name_sex_year`: normalized full name + sex only. The birth year is kept beside it as a
  small integer (`Pseudonyms.birth_year`) because the rule "birth years within one year"
  needs arithmetic, which a hash of the year would not allow; bucket keys for
  year-1/year/year+1 would also chain 1990 to 1992. A birth year and a sex alone
  identify nobody. It is computed with a date of birth too (its year), so a screening
  with a date can match one with only an age; `link` never uses it to join two
  screenings that both have (different) dates.

Name keys need at least two name parts after normalization: "MARIA" + a birth date would
merge strangers.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

LINKAGE_VERSION = "v1"

# Particles are dropped: registers write "María de los Ángeles del Castillo" as well as
# "Maria Angeles Castillo", and dropping is robust to both. "SAN"/"SANTA" stay: they are
# part of surnames such as San Martín or Santa Cruz and "MARTIN" alone is another surname.
# "Y"/"E" join surnames ("Ortiz e Iglesias"); an initial "E." goes too, like any initial
# it is too unreliable to tell people apart.
PARTICLES = frozenset(
    {"DA", "DAS", "DE", "DEL", "DELLA", "DEN", "DER", "DI", "DO", "DOS", "DU", "E"}
    | {"LA", "LAS", "LE", "LO", "LOS", "VAN", "VON", "Y"}
)
_APOSTROPHES = frozenset("'’‘`´ʼ")
_FOLD = str.maketrans({"Ø": "O", "Đ": "D", "Ł": "L", "Æ": "AE", "Œ": "OE", "Þ": "TH"})
_DROP_APOSTROPHES = str.maketrans(dict.fromkeys(_APOSTROPHES))
#: ASCII punctuation and spaces to a space (for ASCII, ``isalnum`` is [A-Za-z0-9])
_ASCII_SEPARATORS = str.maketrans({i: " " for i in range(128) if not chr(i).isalnum()})
_SEXES_FOR_MATCHING = frozenset({"F", "M", "intersex"})

# Numbers that are all digits and whose leading zeros are only padding (they are
# integers in the issuing register), so "01234567" and "1234567" are one DNI.
_NUMERIC_DOCUMENTS = frozenset({"dni", "carne_extranjeria", "ptp", "cedula_foreign"})
_PLACEHOLDERS = frozenset({"123456", "1234567", "12345678", "123456789", "87654321"})
_DNI_WITH_CHECK = re.compile(r"^\s*(\d{1,8})\s*[-/]\s*[0-9A-Ka-k]\s*$")

RecordId = TypeVar("RecordId", int, str)


@dataclass(frozen=True, slots=True)
class Pseudonyms:
    """What screening stores for linkage: keyed hashes, a birth year and a sex code."""

    doc: str | None
    name_dob: str | None
    name_sex_year: str | None
    birth_year: int | None
    sex: str | None


def normalize_name(given_names: str | None, family_names: str | None) -> str:
    """Upper-case name parts, accents, punctuation and particles removed, sorted.

    Sorting makes "QUISPE MAMANI, ROSA" equal "Rosa Quispe Mamani" (given and family
    names swapped, or the two surnames in the other order). If a name is made only of
    particles ("De La"), they are kept rather than returning nothing.
    """
    return " ".join(sorted(name_parts(f"{given_names or ''} {family_names or ''}")))


def name_parts(text: str | None) -> list[str]:
    """Upper-case parts of one name field, accents, punctuation and particles removed,
    in their order, repeats kept."""
    text = (text or "").translate(_DROP_APOSTROPHES).upper()  # O'Neill -> ONEILL
    if text.isascii():  # NFKD changes nothing and there are no combining marks
        cleaned = text.translate(_ASCII_SEPARATORS)
    else:
        decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
        cleaned = "".join(
            ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch)
        )
    parts = cleaned.upper().translate(_FOLD).split()
    return [p for p in parts if p not in PARTICLES] or parts


def normalize_document(doc_type: str | None, number: str | None) -> str | None:
    """`"type:NUMBER"` with separators removed, or `None` when it cannot identify anyone.

    Leading zeros are removed only for all-digit numbers of the national numbering systems
    (`_NUMERIC_DOCUMENTS`); passport and "other" numbers are alphanumeric and a zero there
    is a character. A DNI written with its check digit ("12345678-9") loses the check
    digit, which only some forms ask for; a foreign cédula loses the Venezuelan series
    letter (V/E), which registers write inconsistently. Placeholders that data entry uses for "no
    document" (`00000000`, `99999999`, `12345678`, "S/N", "SIN DOCUMENTO") return `None`:
    linking on them would merge everyone who has none into one person.
    """
    kind = (doc_type or "").strip().lower()
    if not kind or kind == "none" or not number:
        return None
    if kind == "dni" and (m := _DNI_WITH_CHECK.match(number)):
        number = m.group(1)
    decomposed = unicodedata.normalize("NFKD", number.upper())
    cleaned = "".join(ch for ch in decomposed if ch.isalnum() and ch.isascii())
    if kind == "cedula_foreign" and cleaned[:1] in ("V", "E") and cleaned[1:].isdigit():
        cleaned = cleaned[1:]  # Venezuelan "V-12.345.678" is also written "12345678"
    if kind in _NUMERIC_DOCUMENTS and cleaned.isdigit():
        cleaned = cleaned.lstrip("0")
    if (
        len(cleaned) < 4
        or not any(ch.isdigit() for ch in cleaned)
        or len(set(cleaned)) == 1
        or cleaned in _PLACEHOLDERS
    ):
        return None
    return f"{kind}:{cleaned}"


def pseudonyms(
    index_key: bytes,
    *,
    doc_type: str | None,
    doc_number: str | None,
    given_names: str | None,
    family_names: str | None,
    date_of_birth: date | None,
    sex: str | None,
    birth_year: int | None,
) -> Pseudonyms:
    """Keyed pseudonyms of one screening; each is `None` when its inputs are missing.

    With a date of birth, its year is the birth year. Only `F`, `M` and `intersex` take
    part in the name + sex + year key: `unknown` is not "the same sex".
    """
    if len(index_key) < 32:
        raise ValueError("the linkage index key must be at least 32 bytes")
    doc = normalize_document(doc_type, doc_number)
    name = normalize_name(given_names, family_names)
    has_full_name = len(name.split()) >= 2
    year = date_of_birth.year if date_of_birth is not None else birth_year
    matchable_sex = sex if sex in _SEXES_FOR_MATCHING else None
    return Pseudonyms(
        doc=_mac(index_key, "doc", doc) if doc else None,
        name_dob=(
            _mac(index_key, "name_dob", name, date_of_birth.isoformat())
            if has_full_name and date_of_birth is not None
            else None
        ),
        name_sex_year=(
            _mac(index_key, "name_sex", name, matchable_sex)
            if has_full_name and matchable_sex is not None and year is not None
            else None
        ),
        birth_year=year,
        sex=sex,
    )


def _mac(key: bytes, purpose: str, *fields: str) -> str:
    # Unit separator (0x1f) cannot occur in a normalized field, so fields cannot run together.
    message = "\x1f".join((f"ruta-linkage-{LINKAGE_VERSION}", purpose, *fields))
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def link(records: Iterable[tuple[RecordId, Pseudonyms]]) -> dict[RecordId, RecordId]:
    """Map each record id to its person id: the smallest record id of its component.

    Two records match on the same `doc`, the same `name_dob`, or the same `name_sex_year`
    (which includes the sex) with birth years at most one apart *when at least one of the
    two has only an age*: two different exact dates of birth are two people, however
    common "Rosa Quispe Mamani, 1990" is. A record has an exact date iff it has a
    `name_dob` key. Matches are transitive. Buckets per key keep it linear.
    """
    ids: list[RecordId] = []
    parent: list[int] = []

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def join(j: int, i: int) -> None:
        """Join record i (the current one) to the component of an earlier record j."""
        rj, ri = find(j), find(i)
        if rj != ri:
            parent[ri] = rj

    by_doc: dict[str, int] = {}
    by_name_dob: dict[str, int] = {}
    # name_sex_year -> birth year -> [an age-only record or -1, *dated records]: all
    # age-only records of a year are joined, so one stands for them; dated records are
    # listed until an age-only record within a year joins them, then one stands for all.
    by_name_sex: dict[str, dict[int, list[int]]] = {}
    for i, (record_id, p) in enumerate(records):
        ids.append(record_id)
        parent.append(i)
        if (key := p.doc) is not None:
            if (j := by_doc.get(key)) is None:
                by_doc[key] = i
            else:
                join(j, i)
        exact = (dob_key := p.name_dob) is not None
        if dob_key is not None:
            if (j := by_name_dob.get(dob_key)) is None:
                by_name_dob[dob_key] = i
            else:
                join(j, i)
        if (key := p.name_sex_year) is None or (year := p.birth_year) is None:
            continue
        if (years := by_name_sex.get(key)) is None:  # first screening with this name and sex
            by_name_sex[key] = {year: [-1, i] if exact else [i]}
            continue
        for y in (year - 1, year, year + 1):
            if (slot := years.get(y)) is not None:
                if slot[0] >= 0:
                    join(slot[0], i)
                if not exact and len(slot) > 1:  # two dates never join each other directly
                    for j in slot[1:]:
                        join(j, i)
                    del slot[2:]
        if (own := years.get(year)) is None:
            years[year] = [-1, i] if exact else [i]
        elif exact:
            own.append(i)
        elif own[0] < 0:
            own[0] = i

    smallest: dict[int, RecordId] = {}
    roots = [find(i) for i in range(len(ids))]
    for record_id, root in zip(ids, roots, strict=True):
        current = smallest.get(root)
        if current is None or record_id < current:
            smallest[root] = record_id
    persons = {record_id: smallest[root] for record_id, root in zip(ids, roots, strict=True)}
    if len(persons) != len(ids):
        raise ValueError("record ids must be unique")
    return persons
