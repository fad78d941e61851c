"""The service directory as the referral rules see it: providers with live occupancy,
region coordinates, and a screening's facts for the engine (domain.md §3)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import joinedload

from caseapp.accounts.models import Organization
from caseapp.directory import services as directory_services
from caseapp.directory.hours import parse_hours
from caseapp.directory.models import Region, Service
from caseapp.extensions import db
from caseapp.referrals import rules
from caseapp.referrals.models import Consent
from caseapp.screening.models import Screening

# -- the directory as the rules see it ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """The directory service that a provider's facts describe: ids only, so the cached
    directory never hands out an ORM object of another session."""

    id: int
    organization_id: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the referral rules read of the directory, as built from its rows: every
    active service's facts (without occupancy) and the regions' coordinates."""

    providers: list[tuple[rules.ProviderFacts, ServiceRef]]
    coords: dict[str, tuple[float, float]]


#: Per process: the digest of the directory and region rows last seen, and the snapshot
#: built from them. See ``snapshot``.
_directory_cache: tuple[tuple[Any, ...], Snapshot] | None = None


@functools.cache
def _directory_statement(postgres: bool) -> sa.Select:
    """Every input of ``service_facts`` for the active services, as plain values (JSON
    lists as their text), in id order; on PostgreSQL only their count and md5 digest,
    and the md5 digest of the regions' coordinates, computed by the server in one
    statement. Built once: it is run for every screening."""
    columns = (
        Service.id,
        Service.organization_id,
        Service.service_type,
        Service.min_age,
        Service.max_age,
        Service.sexes,
        Service.accepts_transgender,
        Service.accepts_foreign,
        Service.capacity,
        Service.hours,
        sa.cast(Service.languages, sa.Text),
        sa.cast(Service.nationalities, sa.Text),
        sa.cast(Service.serves, sa.Text),
        Service.is_active,
        Service.updated_at,
        Organization.code,
        Organization.name,
        Organization.region_code,
        Organization.is_active,
    )
    active = (Service.is_active.is_(True), Organization.is_active.is_(True))
    if not postgres:
        return sa.select(*columns).join(Service.organization).where(*active).order_by(Service.id)

    def digest(parts: tuple[Any, ...], order: Any) -> Any:
        line = sa.func.concat_ws(
            "|", *(sa.func.coalesce(sa.cast(c, sa.Text), "\\N") for c in parts)
        )
        ordered: Any = postgresql.aggregate_order_by(sa.literal_column("E'\\n'"), order)
        return sa.func.md5(sa.func.string_agg(line, ordered))

    regions = sa.select(digest((Region.code, Region.lat, Region.lon), Region.code))
    return (
        sa.select(sa.func.count(), digest(columns, Service.id), regions.scalar_subquery())
        .join(Service.organization)
        .where(*active)
    )


def _region_statement() -> sa.Select:
    return sa.select(Region.code, Region.lat, Region.lon).order_by(Region.code)


def _directory_rows() -> tuple[Any, ...]:
    """What the cached snapshot was built from (``_directory_statement``; on other
    databases than PostgreSQL, the region rows too)."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    rows = tuple(tuple(row) for row in db.session.execute(_directory_statement(postgres)))
    if postgres:
        return rows
    return rows + tuple(tuple(row) for row in db.session.execute(_region_statement()))


def snapshot() -> Snapshot:
    """The directory as the rules see it, without occupancy.

    Building the facts (ORM objects, JSON lists, opening hours) costs more than the rest
    of planning, so they are kept per process, with the regions' coordinates, and
    rebuilt whenever the directory or region rows differ from those they were built
    from: every call compares all of them (one small query), so an edit by any process
    or transaction is seen by the next call.
    """
    global _directory_cache
    rows = _directory_rows()
    cached = _directory_cache
    if cached is None or cached[0] != rows:
        services = db.session.scalars(
            sa.select(Service)
            .join(Service.organization)
            .options(joinedload(Service.organization))
            .where(Service.is_active.is_(True), Organization.is_active.is_(True))
            .order_by(Service.id)
            .execution_options(populate_existing=True)  # not the session's older copies
        ).all()
        built = Snapshot(
            [(service_facts(s, 0), ServiceRef(s.id, s.organization_id)) for s in services],
            {code: (lat, lon) for code, lat, lon in db.session.execute(_region_statement())},
        )
        cached = _directory_cache = (rows, built)
    return cached[1]


def with_occupancy(
    providers: list[tuple[rules.ProviderFacts, ServiceRef]],
) -> list[tuple[rules.ProviderFacts, ServiceRef]]:
    """The providers with their live occupancy: never cached, counted from the
    admissions on every call."""
    occupancy = directory_services.occupancy_source(None)  # live, from shelters
    return [
        (replace(facts, occupancy=occupancy[ref.id]) if occupancy.get(ref.id) else facts, ref)
        for facts, ref in providers
    ]


def directory() -> tuple[
    list[tuple[rules.ProviderFacts, ServiceRef]], dict[str, tuple[float, float]]
]:
    """Every active service with its live occupancy, and the regions' coordinates (a
    copy: the caller may keep it)."""
    current = snapshot()
    return with_occupancy(current.providers), dict(current.coords)


def provider_facts() -> list[tuple[rules.ProviderFacts, ServiceRef]]:
    """Every active service with its live occupancy (``directory``)."""
    return with_occupancy(snapshot().providers)


def service_facts(service: Service, occupancy: int) -> rules.ProviderFacts:
    org = service.organization
    return rules.ProviderFacts(
        code=org.code,
        name=org.name,
        service_type=service.service_type,
        region=org.region_code,
        hours=parse_hours(service.hours),
        min_age=service.min_age,
        max_age=service.max_age,
        sexes=service.sexes,
        accepts_transgender=service.accepts_transgender,
        accepts_foreign=service.accepts_foreign,
        capacity=service.capacity,
        occupancy=occupancy,
        languages=tuple(service.languages),
        nationalities=tuple(service.nationalities),
        serves=frozenset(service.serves),
        is_active=service.is_active and org.is_active,
    )


def region_coords() -> dict[str, tuple[float, float]]:
    """The regions' coordinates (``directory``)."""
    return dict(snapshot().coords)


def referral_facts(
    screening: Screening, consent: Consent | None, now: datetime | None = None
) -> rules.ReferralFacts:
    """``now``: when the referrals are created (a gap's next opening counts from it)."""
    person = screening.case.person
    scope = frozenset(consent.scope) if consent is not None and consent.given else None
    return rules.ReferralFacts(
        status=screening.effective_status,
        tags=frozenset(screening.tags),
        identified_at=screening.identified_at,
        region=screening.region,
        age_years=screening.age_years,
        sex=person.sex,
        gender_identity=person.gender_identity or "not_specified",
        nationality=tuple(person.nationality),
        languages=tuple(person.languages),
        purposes=frozenset(screening.purposes),
        indicators=frozenset(screening.indicators),
        needs=frozenset(screening.needs),
        pregnant=person.pregnant,
        identification_context=screening.identification_context or "other",
        consent_service_types=scope,
        created_at=now,
    )
