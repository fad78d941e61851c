"""Validation of a screening request (api.md §4), shared by the API and the web form.

Every problem is reported with its field path (``person.sex``, ``acts[2]``); unknown
fields are rejected so a typo never drops data silently. The result is a typed
:class:`ScreeningInput`; nothing is saved unless the whole request is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from caseapp.core import codes
from caseapp.core.errors import ValidationFailed
from caseapp.core.time import LIMA
from caseapp.screening.age_consistency import age_dob_conflicts

MAX_TEXT = 10_000
MAX_NAME = 200
MAX_SHORT = 500
CLOCK_SKEW = timedelta(minutes=10)
#: Ruta registers current cases; an earlier year is a typing error (e.g. 0426 for 2026).
EARLIEST_IDENTIFICATION = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DocumentInput:
    type: str
    number: str | None


@dataclass(frozen=True)
class PersonInput:
    sex: str
    given_names: str | None = None
    family_names: str | None = None
    gender_identity: str | None = None
    lgbtqi: bool | None = None
    date_of_birth: date | None = None
    age_years: int | None = None
    age_estimated: bool = False
    appears_minor: bool | None = None
    nationality: tuple[str, ...] = ()
    document: DocumentInput | None = None
    languages: tuple[str, ...] = ()
    pregnant: bool = False
    disability: bool = False
    migration_status: str | None = None
    unaccompanied: bool = False
    contact: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class ContextInput:
    origin_region: str | None = None
    exploitation_region: str | None = None
    sector: str | None = None
    trafficker_relation: str | None = None
    recruitment_method: str | None = None
    public_official_involved: bool = False
    multiple_victims: bool = False
    criminal_organization: bool = False
    serious_injury_or_death: bool = False


@dataclass(frozen=True)
class ConsentInput:
    given: bool
    scope: tuple[str, ...] = ("all",)
    given_by: str = "person"
    method: str = "verbal"


@dataclass(frozen=True)
class ScreeningInput:
    identified_at: datetime
    region: str
    person: PersonInput
    acts: tuple[str, ...]
    means: tuple[str, ...]
    purposes: tuple[str, ...]
    indicators: tuple[str, ...] = ()
    stated_consent: bool = False
    identification_context: str | None = None
    context: ContextInput = field(default_factory=ContextInput)
    needs: tuple[str, ...] = ()
    consent: ConsentInput | None = None
    notes: str | None = None


class _Reader:
    """Collects every error with its path instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def obj(
        self,
        data: Any,
        path: str,
        allowed: set[str],
        required: frozenset[str] | set[str] = frozenset(),
    ) -> Mapping[str, Any]:
        if not isinstance(data, Mapping):
            self.fail(path or "$", "must be an object")
            return {}
        for key in data:
            if key not in allowed:
                self.fail(f"{path}.{key}" if path else str(key), "unknown field")
        for key in sorted(required):
            if key not in data:
                self.fail(f"{path}.{key}" if path else key, "required")
        return data

    def code(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        list_name: str,
        *,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required and key in data:
                self.fail(path, "required")
            return default
        if not isinstance(value, str) or value not in codes.get(list_name):
            self.fail(path, f"unknown code {value!r} (see codes.md: {list_name})")
            return default
        return value

    def codes(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        list_name: str,
        *,
        extra: frozenset[str] = frozenset(),
    ) -> tuple[str, ...]:
        value = data.get(key, [])
        if value is None:
            value = []
        if not isinstance(value, list):
            self.fail(path, "must be a list of codes")
            return ()
        out: list[str] = []
        valid = codes.get(list_name)
        for i, item in enumerate(value):
            if not isinstance(item, str) or (item not in valid and item not in extra):
                self.fail(f"{path}[{i}]", f"unknown code {item!r} (see codes.md: {list_name})")
            elif item not in out:
                out.append(item)
        return tuple(out)

    def boolean(
        self,
        data: Mapping[str, Any],
        key: str,
        path: str,
        *,
        nullable: bool = False,
        default: bool | None = False,
    ) -> bool | None:
        value = data.get(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            self.fail(path, "must be true or false" + (" or null" if nullable else ""))
            return default
        return value

    def text(self, data: Mapping[str, Any], key: str, path: str, max_len: int) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(path, "must be text")
            return None
        value = value.strip()
        if len(value) > max_len:
            self.fail(path, f"at most {max_len} characters")
            return None
        return value or None

    def integer(self, data: Mapping[str, Any], key: str, path: str, lo: int, hi: int) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.fail(path, f"must be a whole number from {lo} to {hi}")
            return None
        return value

    def parsed(
        self, data: Mapping[str, Any], key: str, path: str, parse: Callable[[str], Any], what: str
    ) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(path, f"must be {what}")
            return None
        try:
            return parse(value)
        except ValueError:
            self.fail(path, f"must be {what}")
            return None


#: Nothing Ruta records (identification, admission, discharge) happened before this. Older
#: values are typing errors; year-1 values overflowed when converted to UTC for storage
#: (a 500 found by fuzzing) and pre-1908 Lima offsets are not whole minutes.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    if parsed < EARLIEST:
        raise ValueError("before 2000")
    return parsed


_TOP = {
    "identified_at",
    "region",
    "identification_context",
    "person",
    "acts",
    "means",
    "purposes",
    "indicators",
    "stated_consent",
    "context",
    "needs",
    "consent",
    "notes",
}
_PERSON = {
    "given_names",
    "family_names",
    "sex",
    "gender_identity",
    "lgbtqi",
    "date_of_birth",
    "age_years",
    "age_estimated",
    "appears_minor",
    "nationality",
    "document",
    "languages",
    "pregnant",
    "disability",
    "migration_status",
    "unaccompanied",
    "contact",
    "address",
}
_CONTEXT = {
    "origin_region",
    "exploitation_region",
    "sector",
    "trafficker_relation",
    "recruitment_method",
    "public_official_involved",
    "multiple_victims",
    "criminal_organization",
    "serious_injury_or_death",
}
_FLAGS = (
    "public_official_involved",
    "multiple_victims",
    "criminal_organization",
    "serious_injury_or_death",
)
_CONSENT = {"given", "scope", "given_by", "method"}


def parse_consent(r: _Reader, data: Any, path: str) -> ConsentInput | None:
    c = r.obj(data, path, _CONSENT, {"given"})
    given = r.boolean(c, "given", f"{path}.given", default=None)
    scope = r.codes(c, "scope", f"{path}.scope", "service_type", extra=frozenset({"all"}))
    if "all" in scope and len(scope) > 1:
        r.fail(f"{path}.scope", 'use ["all"] alone or a list of service types')
    if isinstance(c, Mapping) and "scope" in c and c.get("given") is True and not scope:
        r.fail(f"{path}.scope", 'name at least one service type, or ["all"]')
    given_by = r.code(c, "given_by", f"{path}.given_by", "consent_given_by", default="person")
    method = r.code(c, "method", f"{path}.method", "consent_method", default="verbal")
    if given is None:
        return None
    return ConsentInput(
        given=given,
        scope=scope or ("all",),
        given_by=given_by or "person",
        method=method or "verbal",
    )


def _lima_date(at: datetime) -> date:
    """The identification date as the rules count it (Lima)."""
    return at.astimezone(LIMA).date()


def parse_screening(payload: Any, *, now: datetime | None = None) -> ScreeningInput:
    """Validate a screening request; raise :class:`ValidationFailed` listing every field."""
    now = now or datetime.now(UTC)
    r = _Reader()
    top = r.obj(payload, "", _TOP, {"region", "person", "acts", "means", "purposes"})

    identified_at = (
        r.parsed(
            top,
            "identified_at",
            "identified_at",
            _datetime,
            "a date-time with offset, e.g. 2026-03-14T22:30:00-05:00",
        )
        or now
    )
    if identified_at > now + CLOCK_SKEW:
        r.fail("identified_at", "cannot be in the future")
    elif identified_at < EARLIEST_IDENTIFICATION:
        r.fail("identified_at", "is before 2000 (is the year right?)")
    region = r.code(top, "region", "region", "region", required=True)
    if "region" in top and top.get("region") is None:
        r.fail("region", 'required (use "unknown" when not known)')
    ident_ctx = r.code(
        top, "identification_context", "identification_context", "identification_context"
    )

    p = r.obj(top.get("person"), "person", _PERSON, {"sex"}) if "person" in top else {}
    sex = r.code(p, "sex", "person.sex", "sex")
    if "sex" in p and p.get("sex") is None:
        r.fail("person.sex", 'required (use "unknown" when not known)')
    dob = r.parsed(
        p, "date_of_birth", "person.date_of_birth", date.fromisoformat, "a date YYYY-MM-DD"
    )
    if dob is not None and dob > identified_at.date():
        r.fail("person.date_of_birth", "is after the date of identification")
    if dob is not None and dob.year < identified_at.year - 120:
        r.fail("person.date_of_birth", "is more than 120 years before identification")
    document = None
    if p.get("document") is not None:
        d = r.obj(p["document"], "person.document", {"type", "number"}, {"type"})
        doc_type = r.code(d, "type", "person.document.type", "document_type")
        number = r.text(d, "number", "person.document.number", 40)
        if doc_type not in (None, "none") and not number:
            r.fail("person.document.number", "required when a document type is given")
        if number and d.get("type") is None and "person.document.type" not in r.errors:
            r.fail("person.document.type", "required when a number is given")
        if number and doc_type == "none":
            r.fail("person.document.number", 'must be empty when the type is "none"')
        if doc_type:
            document = DocumentInput(doc_type, number if doc_type != "none" else None)
    person = PersonInput(
        sex=sex or "unknown",
        given_names=r.text(p, "given_names", "person.given_names", MAX_NAME),
        family_names=r.text(p, "family_names", "person.family_names", MAX_NAME),
        gender_identity=r.code(p, "gender_identity", "person.gender_identity", "gender_identity"),
        lgbtqi=r.boolean(p, "lgbtqi", "person.lgbtqi", nullable=True, default=None),
        date_of_birth=dob,
        age_years=r.integer(p, "age_years", "person.age_years", 0, 120),
        age_estimated=bool(r.boolean(p, "age_estimated", "person.age_estimated")),
        appears_minor=r.boolean(
            p, "appears_minor", "person.appears_minor", nullable=True, default=None
        ),
        nationality=r.codes(p, "nationality", "person.nationality", "nationality"),
        document=document,
        languages=r.codes(p, "languages", "person.languages", "language"),
        pregnant=bool(r.boolean(p, "pregnant", "person.pregnant")),
        disability=bool(r.boolean(p, "disability", "person.disability")),
        migration_status=r.code(
            p, "migration_status", "person.migration_status", "migration_status"
        ),
        unaccompanied=bool(r.boolean(p, "unaccompanied", "person.unaccompanied")),
        contact=r.text(p, "contact", "person.contact", MAX_SHORT),
        address=r.text(p, "address", "person.address", MAX_SHORT),
    )

    for path, message in age_dob_conflicts(
        dob, person.age_years, _lima_date(identified_at)
    ).items():
        r.fail(path, message)

    c = r.obj(top.get("context") or {}, "context", _CONTEXT)
    context = ContextInput(
        origin_region=r.code(c, "origin_region", "context.origin_region", "region"),
        exploitation_region=r.code(
            c, "exploitation_region", "context.exploitation_region", "region"
        ),
        sector=r.code(c, "sector", "context.sector", "sector"),
        trafficker_relation=r.code(
            c, "trafficker_relation", "context.trafficker_relation", "trafficker_relation"
        ),
        recruitment_method=r.code(
            c, "recruitment_method", "context.recruitment_method", "recruitment_method"
        ),
        **{flag: bool(r.boolean(c, flag, f"context.{flag}")) for flag in _FLAGS},
    )
    consent = parse_consent(r, top["consent"], "consent") if top.get("consent") else None

    result = ScreeningInput(
        identified_at=identified_at,
        region=region or "unknown",
        person=person,
        acts=r.codes(top, "acts", "acts", "act"),
        means=r.codes(top, "means", "means", "means"),
        purposes=r.codes(top, "purposes", "purposes", "purpose"),
        indicators=r.codes(top, "indicators", "indicators", "indicator"),
        stated_consent=bool(r.boolean(top, "stated_consent", "stated_consent")),
        identification_context=ident_ctx,
        context=context,
        needs=r.codes(top, "needs", "needs", "need"),
        consent=consent,
        notes=r.text(top, "notes", "notes", MAX_TEXT),
    )
    if r.errors:
        raise ValidationFailed(r.errors)
    return result
