"""Synthetic data: table rows for cases, persons, screenings and facts, built exactly as the
services would store them (encrypted, indexed, pseudonymised)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from caseapp.core.crypto import FORMAT_VERSION, NONCE_BYTES, Keyring
from caseapp.core.time import LIMA
from caseapp.facts import encoding, linkage
from caseapp.facts import services as report_facts
from caseapp.facts.models import (
    KEY_COLUMNS,
    LinkageBlock,
    LinkageRecord,
    ScreeningFact,
    ScreeningFactPurpose,
)
from caseapp.screening import rules
from caseapp.screening import services as screening_services
from caseapp.screening.models import Case, Person, Screening
from caseapp.screening.schema import ScreeningInput
from devtools.synth.population import Registration

# --- Rows ----------------------------------------------------------------------------------


class FastCipher:
    """``Keyring.encrypt`` with one AESGCM object for the run instead of one per value.

    Same ciphertext layout and associated data (the column context), so
    ``Keyring.decrypt`` and ``EncryptedText`` read the values back unchanged.
    """

    def __init__(self, ring: Keyring) -> None:
        kid = ring.current_key_id.encode()
        self._prefix = bytes([FORMAT_VERSION, len(kid)]) + kid
        self._aead = AESGCM(ring.data_keys[ring.current_key_id])

    def encrypt(self, plaintext: str | None, context: bytes) -> bytes | None:
        if plaintext is None:
            return None
        nonce = os.urandom(NONCE_BYTES)
        return self._prefix + nonce + self._aead.encrypt(nonce, plaintext.encode(), context)


_CTX = {
    name: name.encode()
    for name in (
        "persons.given_names",
        "persons.family_names",
        "persons.date_of_birth",
        "persons.document_number",
        "persons.contact",
        "persons.address",
        "screenings.facts",
    )
}


@dataclass(frozen=True, slots=True)
class _PersonView:
    """The attributes of ``Person`` that ``facts.services`` helpers read."""

    sex: str
    gender_identity: str | None
    given_names: str | None
    family_names: str | None
    date_of_birth: str | None
    document_type: str | None
    document_number: str | None


@dataclass(frozen=True, slots=True)
class _CaseView:
    person: _PersonView


@dataclass(frozen=True, slots=True)
class _ScreeningView:
    case: _CaseView
    identified_at: datetime
    age_years: int | None


def plain(value: Any) -> Any:
    """``dataclasses.asdict`` without its deep copies (tuples become lists for JSON)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {f: plain(getattr(value, f)) for f in names}
    if kind is tuple or kind is list:
        return [v if type(v) is str else plain(v) for v in value]
    if isinstance(value, BaseModel):  # the request models (screening.schema)
        _FIELD_NAMES[kind] = tuple(kind.model_fields)
        return plain(value)
    if is_dataclass(value) and not isinstance(value, type):
        _FIELD_NAMES[kind] = tuple(f.name for f in fields(value))
        return plain(value)
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_SCALARS = frozenset({str, int, float, bool, type(None), date, datetime})


def _json_default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value))


def facts_json(data: ScreeningInput) -> str:
    """The encrypted ``screenings.facts`` text, as ``screening.services`` writes it."""
    return json.dumps(plain(data), default=_json_default, sort_keys=True)


class _Json:
    """JSON text of small lists, memoised: a handful of distinct values repeat."""

    def __init__(self) -> None:
        self._memo: dict[Any, str] = {}

    def __call__(self, value: Any) -> str:
        key = tuple(value) if isinstance(value, list) else None
        if key is None:
            return json.dumps(value)
        text = self._memo.get(key)
        if text is None:
            if len(self._memo) > 100_000:
                self._memo.clear()
            text = self._memo[key] = json.dumps(value)
        return text


# Column order: the ids first (the builder leaves them out, ``IdAssigner`` adds them).
CASE_COLUMNS = (
    "id",
    "uuid",
    "organization_id",
    "created_by_id",
    "status",
    "region",
    "determination",
    "created_at",
    "updated_at",
    "closed_at",
    "legal_hold",
    "purged_at",
    "version",
)
PERSON_COLUMNS = (
    "id",
    "case_id",
    "given_names",
    "family_names",
    "date_of_birth",
    "document_type",
    "document_number",
    "contact",
    "address",
    "name_index",
    "document_index",
    "sex",
    "gender_identity",
    "lgbtqi",
    "age_years",
    "age_estimated",
    "appears_minor",
    "nationality",
    "languages",
    "migration_status",
    "pregnant",
    "disability",
    "unaccompanied",
)
SCREENING_COLUMNS = (
    "id",
    "uuid",
    "case_id",
    "organization_id",
    "created_by_id",
    "created_at",
    "identified_at",
    "region",
    "identification_context",
    "acts",
    "means",
    "purposes",
    "indicators",
    "needs",
    "stated_consent",
    "context",
    "notes",
    "facts",
    "status",
    "missing_elements",
    "aggravating",
    "exploitation_form",
    "explanation",
    "alerts",
    "rule_version",
    "tags",
    "age_years",
    "age_group",
    "unodc_category",
    "mp_band",
    "ctdc_band",
    "override_status",
    "override_justification",
    "override_by_id",
    "override_at",
)
FACT_COLUMNS = (
    "screening_id",
    "organization_id",
    "org_kind",
    "identified_at",
    "identified_on",
    "year",
    "month",
    "status",
    "region",
    "exploitation_region",
    "sex",
    "gender_identity",
    "age_group",
    "unodc_category",
    "mp_band",
    "ctdc_band",
    "nationality",
    "nationality_group",
    "exploitation_form",
    "sector",
    "identification_context",
    "person_id",
)
PURPOSE_COLUMNS = ("screening_id", "purpose")
LINK_COLUMNS = ("screening_id", "key_id", *KEY_COLUMNS)
BLOCK_COLUMNS = ("block", "screening_id")
TABLES: tuple[tuple[sa.Table, tuple[str, ...]], ...] = (
    (cast(sa.Table, Case.__table__), CASE_COLUMNS),
    (cast(sa.Table, Person.__table__), PERSON_COLUMNS),
    (cast(sa.Table, Screening.__table__), SCREENING_COLUMNS),
    (cast(sa.Table, ScreeningFact.__table__), FACT_COLUMNS),
    (cast(sa.Table, ScreeningFactPurpose.__table__), PURPOSE_COLUMNS),
    (cast(sa.Table, LinkageRecord.__table__), LINK_COLUMNS),
    (cast(sa.Table, LinkageBlock.__table__), BLOCK_COLUMNS),
)
_JSON_COLUMNS = frozenset(
    {
        "nationality",
        "languages",
        "acts",
        "means",
        "purposes",
        "indicators",
        "needs",
        "context",
        "missing_elements",
        "aggravating",
        "explanation",
        "alerts",
        "tags",
    }
)


def check_columns() -> None:
    """Fail loudly when a model gained or lost a column synth does not write."""
    for table, columns in TABLES:
        if set(table.columns.keys()) != set(columns):
            missing = sorted(set(table.columns.keys()) - set(columns))
            extra = sorted(set(columns) - set(table.columns.keys()))
            raise RuntimeError(
                f"synth does not match table {table.name}: not written {missing}, "
                f"unknown {extra}; update devtools/synth/rows.py"
            )


class Built(NamedTuple):
    """One screening's rows without their ids (what a worker process sends back)."""

    person: int  # ground truth: index of the TruePerson
    case: tuple[Any, ...]  # CASE_COLUMNS[1:]
    person_row: tuple[Any, ...]  # PERSON_COLUMNS[2:]
    screening_uuid: str
    screening: tuple[Any, ...]  # SCREENING_COLUMNS[3:]
    fact_head: tuple[Any, ...]  # FACT_COLUMNS[1:21]
    link: tuple[Any, ...]  # LINK_COLUMNS[1:]
    purposes: tuple[str, ...]
    exact: linkage.Pseudonyms  # the old exact keys, kept in memory for comparison only


@dataclass
class Batch:
    """Rows of the five tables, as tuples in the column order above."""

    cases: list[tuple[Any, ...]] = field(default_factory=list)
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    screenings: list[tuple[Any, ...]] = field(default_factory=list)
    facts: list[tuple[Any, ...]] = field(default_factory=list)
    purposes: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)
    blocks: list[tuple[Any, ...]] = field(default_factory=list)
    truth: list[int] = field(default_factory=list)
    exact: list[linkage.Pseudonyms] = field(default_factory=list)

    def tables(self) -> list[tuple[sa.Table, tuple[str, ...], list[tuple[Any, ...]]]]:
        rows = (
            self.cases,
            self.persons,
            self.screenings,
            self.facts,
            self.purposes,
            self.links,
            self.blocks,
        )
        return [(t, c, r) for (t, c), r in zip(TABLES, rows, strict=True)]

    def __len__(self) -> int:
        return sum(len(r) for _, _, r in self.tables())


class RowBuilder:
    """Turns a registration into the values the screening service would store.

    The decision comes from ``rules.determine``/``profile``, the blind indexes from
    ``screening.services``, the fact values and pseudonyms from ``facts.services`` and
    ``facts.encoding``. Personal data is encrypted like ``EncryptedText`` does.
    """

    def __init__(self, ring: Keyring) -> None:
        self.cipher = FastCipher(ring)
        self.index_key = ring.index_key
        self.json = _Json()

    def build(self, reg: Registration) -> Built:
        data, org = reg.data, reg.org
        p = data.person
        context = plain(data.context)
        facts = screening_services.facts_from(data, context)
        determination = rules.determine(facts)
        profile = rules.profile(facts)
        enc, ctx, js = self.cipher.encrypt, _CTX, self.json
        status = determination.status

        case = (
            str(uuid.uuid4()),
            org.id,
            None,
            "open" if reg.closed_at is None else "closed",
            data.region,
            status,
            reg.created_at,
            reg.created_at,
            reg.closed_at,
            False,
            None,
            1,
        )
        dob = p.date_of_birth.isoformat() if p.date_of_birth else None
        doc_type = p.document.type if p.document else None
        doc_number = p.document.number if p.document else None
        person = (
            enc(p.given_names, ctx["persons.given_names"]),
            enc(p.family_names, ctx["persons.family_names"]),
            enc(dob, ctx["persons.date_of_birth"]),
            doc_type,
            enc(doc_number, ctx["persons.document_number"]),
            enc(p.contact, ctx["persons.contact"]),
            enc(p.address, ctx["persons.address"]),
            screening_services.name_index(p.given_names, p.family_names),
            screening_services.document_index(doc_number),
            p.sex,
            p.gender_identity,
            p.lgbtqi,
            p.age_years,
            p.age_estimated,
            p.appears_minor,
            js(list(p.nationality)),
            js(list(p.languages)),
            p.migration_status,
            p.pregnant,
            p.disability,
            p.unaccompanied,
        )
        screening = (
            org.id,
            None,
            reg.created_at,
            data.identified_at,
            data.region,
            data.identification_context,
            js(list(data.acts)),
            js(list(data.means)),
            js(list(data.purposes)),
            js(list(data.indicators)),
            js(list(data.needs)),
            data.stated_consent,
            json.dumps(context),
            None,
            enc(facts_json(data), ctx["screenings.facts"]),
            status,
            js(list(determination.missing_elements)),
            js(list(determination.aggravating)),
            determination.exploitation_form,
            json.dumps([r.as_dict() for r in determination.explanation]),
            js(list(determination.alerts)),
            determination.rule_version,
            js(list(profile.tags)),
            profile.age_years,
            profile.age_group,
            profile.unodc_category,
            profile.mp_band,
            profile.ctdc_band,
            None,
            None,
            None,
            None,
        )

        # facts.services.record, from the same values
        view = _PersonView(
            p.sex, p.gender_identity, p.given_names, p.family_names, dob, doc_type, doc_number
        )
        as_screening = cast(
            Screening, _ScreeningView(_CaseView(view), data.identified_at, profile.age_years)
        )
        keys = report_facts.encode(as_screening, self.index_key)
        key_id = encoding.encoder(self.index_key).key_id
        stored = report_facts.linkage_values(keys, key_id)
        exact = linkage.pseudonyms(
            self.index_key,
            doc_type=doc_type,
            doc_number=doc_number,
            given_names=p.given_names,
            family_names=p.family_names,
            date_of_birth=p.date_of_birth,
            sex=p.sex,
            birth_year=None if p.date_of_birth else keys.birth_year,
        )
        nationality, group = report_facts.primary_nationality(list(p.nationality))
        local = data.identified_at.astimezone(LIMA)
        fact_head = (
            org.id,
            org.kind,
            data.identified_at,
            local.date(),
            local.year,
            f"{local.year:04d}-{local.month:02d}",
            status,
            data.region,
            context.get("exploitation_region") or "unknown",
            p.sex,
            report_facts.collapsed_gender(cast(Person, view)),
            profile.age_group,
            profile.unodc_category,
            profile.mp_band,
            profile.ctdc_band,
            nationality,
            group,
            determination.exploitation_form,
            context.get("sector") or "unknown",
            data.identification_context or "unknown",
        )
        return Built(
            reg.person,
            case,
            person,
            str(uuid.uuid4()),
            screening,
            fact_head,
            tuple(stored[c] for c in LINK_COLUMNS[1:]),
            tuple(sorted(set(data.purposes))),
            exact,
        )


class IdAssigner:
    """Gives built screenings their ids from pre-allocated ranges, in order, so children
    reference parents without a round trip."""

    def __init__(self, first: Mapping[str, int]) -> None:
        self.next_case = first["cases"]
        self.next_person = first["persons"]
        self.next_screening = first["screenings"]

    def add(self, batch: Batch, built: Built) -> int:
        case_id, person_id, screening_id = self.next_case, self.next_person, self.next_screening
        self.next_case += 1
        self.next_person += 1
        self.next_screening += 1
        batch.cases.append((case_id, *built.case))
        batch.persons.append((person_id, case_id, *built.person_row))
        batch.screenings.append((screening_id, built.screening_uuid, case_id, *built.screening))
        # a new fact is its own person until linked (facts.services.record)
        batch.facts.append((screening_id, *built.fact_head, screening_id))
        batch.purposes.extend((screening_id, purpose) for purpose in built.purposes)
        batch.links.append((screening_id, *built.link))
        batch.blocks.extend(
            (block, screening_id)
            for block in encoding.unpack_codes(built.link[LINK_COLUMNS.index("blocks") - 1])
        )
        batch.exact.append(built.exact)
        batch.truth.append(built.person)
        return screening_id

    @property
    def last_ids(self) -> dict[str, int]:
        return {
            "cases": self.next_case - 1,
            "persons": self.next_person - 1,
            "screenings": self.next_screening - 1,
        }
