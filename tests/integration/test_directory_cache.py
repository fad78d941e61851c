"""The referral engine keeps the directory's facts per process (referrals.services.
provider_facts): every edit must show at the next call, and occupancy is never cached."""

from __future__ import annotations

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.directory.models import Service
from caseapp.extensions import db
from caseapp.referrals import providers
from caseapp.referrals.rules import RESIDENTIAL_SERVICE_TYPES


def facts_of(service_id: int):
    return next(f for f, ref in providers.provider_facts() if ref.id == service_id)


def a_service(residential: bool = False) -> Service:
    wanted = Service.service_type.in_(RESIDENTIAL_SERVICE_TYPES)
    return db.session.scalars(
        sa.select(Service)
        .where(wanted if residential else ~wanted, Service.is_active.is_(True))
        .where(Service.capacity.is_not(None) if residential else sa.true())
        .order_by(Service.id)
    ).first()


def test_service_and_organization_edits_show_at_the_next_call(db_tx):
    service = a_service()
    before = facts_of(service.id)
    assert facts_of(service.id) is before  # cached: the same facts object
    service.hours = "Mon-Fri 08:00-13:00"
    service.max_age = 17
    db.session.flush()
    after = facts_of(service.id)
    assert after.max_age == 17 and after.hours != before.hours

    org = db.session.get(Organization, service.organization_id)
    org.name = "Renamed for the test"
    org.region_code = "25" if org.region_code != "25" else "24"
    db.session.flush()
    renamed = facts_of(service.id)
    assert renamed.name == "Renamed for the test" and renamed.region == org.region_code

    service.is_active = False
    db.session.flush()
    assert all(ref.id != service.id for _, ref in providers.provider_facts())


def test_json_lists_changed_without_the_orm_are_seen_too(db_tx):
    service = a_service()
    facts_of(service.id)
    db.session.execute(
        sa.update(Service.__table__)
        .where(Service.__table__.c.id == service.id)
        .values(languages=["qu", "es"])
    )
    assert facts_of(service.id).languages == ("qu", "es")


def test_occupancy_is_live(api):
    from datetime import UTC, datetime

    from caseapp.referrals.models import Referral
    from caseapp.screening.models import Screening
    from caseapp.shelters.models import Admission
    from tests.integration.test_screening_api import ROSA

    service = a_service(residential=True)
    assert facts_of(service.id).occupancy == 0
    created = api("screener").post("/api/v1/screenings", json=ROSA)
    assert created.status_code == 201
    screening = db.session.scalar(sa.select(Screening).where(Screening.uuid == created.json["id"]))
    referral = db.session.scalars(
        sa.select(Referral).where(Referral.screening_id == screening.id)
    ).first()
    db.session.add(
        Admission(
            referral_id=referral.id,
            case_id=screening.case_id,
            organization_id=service.organization_id,
            service_id=service.id,
            admitted_at=datetime.now(UTC),
        )
    )
    db.session.flush()
    assert facts_of(service.id).occupancy == 1


def test_region_coordinates_are_cached_with_the_directory_and_edits_show(db_tx):
    from caseapp.directory.models import Region

    first = providers.snapshot()
    assert providers.snapshot() is first  # nothing changed: the same snapshot
    providers_now, coords = providers.directory()
    assert coords == first.coords and coords is not first.coords  # a copy to keep
    region = db.session.get(Region, "17")
    region.lat, region.lon = -12.6, -69.2
    db.session.flush()
    assert providers.region_coords()["17"] == (-12.6, -69.2)
    assert providers.snapshot() is not first
    db.session.execute(sa.update(Region.__table__).where(Region.code == "17").values(lat=-12.7))
    assert providers.directory()[1]["17"] == (-12.7, -69.2)
    assert [ref for _, ref in providers_now] == [ref for _, ref in providers.provider_facts()]
