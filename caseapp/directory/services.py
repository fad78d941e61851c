"""Loading and editing the service directory (organizations and their services)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core import codes
from caseapp.core.errors import ValidationFailed
from caseapp.directory.hours import parse_hours
from caseapp.directory.messages import Problem
from caseapp.directory.models import CodeLabel, Region, Service
from caseapp.extensions import db

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_DIRECTORY = DATA_DIR / "directory.csv"
REGIONS_FILE = Path(__file__).resolve().parents[1] / "core" / "data" / "regions.csv"

DIRECTORY_COLUMNS = (
    "code",
    "name",
    "service_type",
    "org_kind",
    "region",
    "city",
    "min_age",
    "max_age",
    "sexes",
    "accepts_transgender",
    "accepts_foreign",
    "capacity",
    "hours",
    "languages",
    "nationalities",
    "serves",
    "notes",
)
RESIDENTIAL_TYPES = codes.RESIDENTIAL_SERVICES
PROFILE_TAGS = frozenset(
    {
        "child",
        "adult",
        "age_unknown",
        "female",
        "male",
        "lgbtqi",
        "foreign",
        "indigenous_language",
        "unaccompanied",
        "asylum_seeker",
    }
)


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _bool(value: str) -> bool | None:
    v = (value or "").strip().lower()
    if v in ("true", "1", "yes", "si", "sí"):
        return True
    if v in ("false", "0", "no"):
        return False
    return None


@dataclass(frozen=True)
class DirectoryRow:
    code: str
    name: str
    service_type: str
    org_kind: str
    region: str
    city: str
    min_age: int
    max_age: int
    sexes: str
    accepts_transgender: bool
    accepts_foreign: bool
    capacity: int | None
    hours: str
    languages: list[str]
    nationalities: list[str]
    serves: list[str]
    notes: str


def validate_row(raw: Mapping[str, str], region_codes: set[str]) -> DirectoryRow:
    """Check one directory row; raise ValidationFailed naming each bad column."""
    errors: dict[str, list[str]] = {}
    get = lambda k: (raw.get(k) or "").strip()  # noqa: E731

    def need(column: str) -> str:
        value = get(column)
        if not value:
            errors[column] = [Problem("required", "required")]
        return value

    def integer(column: str, default: int | None) -> int | None:
        value = get(column)
        if not value:
            return default
        try:
            number = int(value)
            if number < 0:
                raise ValueError
            return number
        except ValueError:
            errors[column] = [Problem("whole_number", "must be a whole number ≥ 0")]
            return default

    code = need("code")
    name = need("name")
    service_type = need("service_type")
    if service_type and service_type not in codes.get("service_type"):
        errors["service_type"] = [f"unknown service type {service_type!r}"]
    org_kind = need("org_kind")
    if org_kind and org_kind not in codes.get("org_kind"):
        errors["org_kind"] = [f"unknown organization kind {org_kind!r}"]
    region = need("region")
    if region and region not in region_codes:
        errors["region"] = [Problem("unknown_region", "unknown region %(value)r", value=region)]
    min_age = integer("min_age", 0)
    max_age = integer("max_age", 120)
    if min_age is not None and max_age is not None and max_age < min_age:
        errors["max_age"] = [Problem("max_below_min", "must be ≥ min_age")]
    sexes = get("sexes") or "any"
    if sexes not in ("F", "M", "any"):
        errors["sexes"] = [Problem("sexes", "must be F, M or any")]
    flags: dict[str, bool] = {}
    for column in ("accepts_transgender", "accepts_foreign"):
        parsed = _bool(get(column) or "true")
        if parsed is None:
            errors[column] = [Problem("boolean", "must be true or false")]
        flags[column] = bool(parsed)
    capacity = integer("capacity", None)
    if service_type in RESIDENTIAL_TYPES and capacity is None and "capacity" not in errors:
        errors["capacity"] = [Problem("capacity_required", "required for residential services")]
    hours = get("hours") or "24/7"
    try:
        parse_hours(hours)
    except ValueError as exc:
        errors["hours"] = [Problem("hours", "%(detail)s", detail=str(exc), value=hours)]
    languages = _split(get("languages")) or ["es"]
    bad_langs = [lang for lang in languages if lang not in codes.get("language")]
    if bad_langs:
        errors["languages"] = [
            Problem("languages", "unknown language codes: %(value)s", value=", ".join(bad_langs))
        ]
    nationalities = [n.upper() for n in _split(get("nationalities"))]
    bad_nat = [n for n in nationalities if len(n) != 3 or not n.isalpha()]
    if bad_nat:
        errors["nationalities"] = [
            Problem("nationalities", "not ISO 3166 alpha-3: %(value)s", value=", ".join(bad_nat))
        ]
    serves = _split(get("serves"))
    bad_tags = [t for t in serves if t not in PROFILE_TAGS]
    if bad_tags:
        errors["serves"] = [
            Problem("serves", "unknown profile tags: %(value)s", value=", ".join(bad_tags))
        ]
    if errors:
        raise ValidationFailed(errors)
    assert min_age is not None and max_age is not None
    return DirectoryRow(
        code=code,
        name=name,
        service_type=service_type,
        org_kind=org_kind,
        region=region,
        city=get("city"),
        min_age=min_age,
        max_age=max_age,
        sexes=sexes,
        accepts_transgender=flags["accepts_transgender"],
        accepts_foreign=flags["accepts_foreign"],
        capacity=capacity,
        hours=hours,
        languages=languages,
        nationalities=nationalities,
        serves=serves,
        notes=get("notes"),
    )


def read_csv(text: str, required: tuple[str, ...] = DIRECTORY_COLUMNS[:5]) -> list[dict[str, str]]:
    """Rows of a CSV file (BOM tolerated); a missing required column is a 422-style error."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed({"header": [f"missing columns: {', '.join(missing)}"]})
    return list(reader)


def seed_regions() -> int:
    rows = read_csv(
        REGIONS_FILE.read_text(encoding="utf-8"), required=("code", "name", "capital", "lat", "lon")
    )
    existing = {r.code: r for r in db.session.scalars(sa.select(Region))}
    for row in rows:
        region = existing.get(row["code"]) or Region(code=row["code"])
        region.name = row["name"]
        region.capital = row["capital"]
        region.lat = float(row["lat"])
        region.lon = float(row["lon"])
        db.session.add(region)
    db.session.flush()
    return len(rows)


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    errors: dict[int, dict[str, list[str]]]


def load_directory(actor: Actor | None, rows: Iterable[Mapping[str, str]]) -> LoadResult:
    """Upsert organizations and their services by code; all rows valid or nothing loaded."""
    region_codes = set(db.session.scalars(sa.select(Region.code)))
    parsed: list[DirectoryRow] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for line, raw in enumerate(rows, start=2):
        try:
            parsed.append(validate_row(raw, region_codes))
        except ValidationFailed as exc:
            errors[line] = exc.fields
    if errors:
        return LoadResult(0, 0, errors)

    orgs = {o.code: o for o in db.session.scalars(sa.select(Organization))}
    created = updated = 0
    for row in parsed:
        org = orgs.get(row.code)
        if org is None:
            org = Organization(code=row.code)
            db.session.add(org)
            orgs[row.code] = org
            created += 1
        else:
            updated += 1
        org.name = row.name
        org.org_kind = row.org_kind
        org.region_code = row.region
        org.city = row.city
        org.notes = row.notes
        org.is_active = True
        db.session.flush()
        service = db.session.scalar(
            sa.select(Service).where(
                Service.organization_id == org.id, Service.service_type == row.service_type
            )
        ) or Service(organization_id=org.id, service_type=row.service_type)
        _apply(service, row)
        db.session.add(service)
    db.session.flush()
    audit.record(
        actor,
        "directory.load",
        object_type="directory",
        details={"created": created, "updated": updated},
    )
    return LoadResult(created, updated, {})


def _apply(service: Service, row: DirectoryRow) -> None:
    service.min_age = row.min_age
    service.max_age = row.max_age
    service.sexes = row.sexes
    service.accepts_transgender = row.accepts_transgender
    service.accepts_foreign = row.accepts_foreign
    service.capacity = row.capacity
    service.hours = row.hours
    service.languages = row.languages
    service.nationalities = row.nationalities
    service.serves = row.serves
    service.is_active = True


def seed_codes() -> int:
    existing = {(c.list_name, c.code): c for c in db.session.scalars(sa.select(CodeLabel))}
    n = 0
    for name, code_list in codes.LISTS.items():
        for item in code_list.items:
            row = existing.get((name, item.code)) or CodeLabel(list_name=name, code=item.code)
            row.es = item.es
            row.en = item.en
            db.session.add(row)
            n += 1
    db.session.flush()
    return n


# -- browsing and editing -----------------------------------------------------------
def search_services(
    *, service_type: str | None = None, region: str | None = None, q: str | None = None
) -> list[Service]:
    stmt = (
        sa.select(Service)
        .join(Service.organization)
        .where(Service.is_active.is_(True), Organization.is_active.is_(True))
        .order_by(Organization.region_code, Service.service_type, Organization.code)
    )
    if service_type:
        stmt = stmt.where(Service.service_type == service_type)
    if region:
        stmt = stmt.where(Organization.region_code == region)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            sa.or_(
                Organization.name.ilike(like),
                Organization.code.ilike(like),
                Organization.city.ilike(like),
            )
        )
    return list(db.session.scalars(stmt))


def get_organization(code: str) -> Organization | None:
    return db.session.scalar(sa.select(Organization).where(Organization.code == code))


def update_service(actor: Actor, service: Service, changes: Mapping[str, Any]) -> Service:
    """Edit eligibility, capacity and hours of a service (admin), validated as on load."""
    org = service.organization
    raw = {
        "code": org.code,
        "name": changes.get("name", org.name),
        "service_type": service.service_type,
        "org_kind": org.org_kind,
        "region": changes.get("region", org.region_code),
        "city": changes.get("city", org.city),
        "min_age": str(changes.get("min_age", service.min_age)),
        "max_age": str(changes.get("max_age", service.max_age)),
        "sexes": changes.get("sexes", service.sexes),
        "accepts_transgender": str(
            changes.get("accepts_transgender", service.accepts_transgender)
        ).lower(),
        "accepts_foreign": str(changes.get("accepts_foreign", service.accepts_foreign)).lower(),
        "capacity": ""
        if changes.get("capacity", service.capacity) is None
        else str(changes.get("capacity", service.capacity)),
        "hours": changes.get("hours", service.hours),
        "languages": ";".join(changes.get("languages", service.languages)),
        "nationalities": ";".join(changes.get("nationalities", service.nationalities)),
        "serves": ";".join(changes.get("serves", service.serves)),
        "notes": changes.get("notes", org.notes),
    }
    region_codes = set(db.session.scalars(sa.select(Region.code)))
    row = validate_row(raw, region_codes)
    org.name, org.region_code, org.city, org.notes = row.name, row.region, row.city, row.notes
    _apply(service, row)
    service.is_active = bool(changes.get("is_active", True))
    db.session.flush()
    audit.record(
        actor,
        "directory.update",
        object_type="organization",
        object_id=org.code,
        details={
            "service_type": service.service_type,
            "fields": sorted(k for k in changes if k != "csrf_token"),
        },
    )
    return service


def split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").replace(",", ";").split(";") if part.strip()]


def _no_admissions(service_ids: list[int] | None) -> dict[int, int]:
    return {}


#: Live occupancy by service id (`None`: every service). Admissions belong to
#: `shelters`, a feature above the directory and referrals, so the app wires the real
#: source in at start-up (caseapp/app.py).
occupancy_source: Callable[[list[int] | None], dict[int, int]] = _no_admissions


def occupancy_map(rows: Iterable[Service]) -> dict[int, int]:
    """Live occupancy (active admissions) of the residential services among ``rows``."""
    ids = [s.id for s in rows if s.service_type in RESIDENTIAL_TYPES]
    if not ids:
        return {}
    counts = occupancy_source(ids)
    return {i: counts.get(i, 0) for i in ids}
