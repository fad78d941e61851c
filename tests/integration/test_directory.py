"""Seeding the directory and browsing/editing it on pages and the API."""

from __future__ import annotations

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.directory.models import Region, Service
from caseapp.extensions import db
from tests.conftest import csrf_from


def test_seed_loaded_all_227_organizations_and_26_regions(db_tx):
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 227
    assert db.session.scalar(sa.select(sa.func.count(Service.id))) == 227
    assert db.session.scalar(sa.select(sa.func.count(Region.code))) == 26
    shelter = db.session.scalar(
        sa.select(Service).join(Organization).where(Organization.code == "UPE-MDD")
    )
    assert shelter.hours == "mon-fri 08:00-17:00" and shelter.max_age == 17


def test_seed_is_idempotent_and_loads_another_directory(app, db_tx, tmp_path):
    runner = app.test_cli_runner()
    again = runner.invoke(args=["seed"])
    assert again.exit_code == 0, again.output
    assert "0 new and 227 updated" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 227
    other = tmp_path / "dir.csv"
    other.write_text(
        "code,name,service_type,org_kind,region,city,min_age,max_age,sexes,"
        "accepts_transgender,accepts_foreign,capacity,hours,languages,nationalities,serves,notes\n"
        "NGO-NEW,Casa Nueva (demo),ngo_shelter,ngo,08,Cusco,18,120,any,true,true,6,24/7,es;qu,,,\n",
        encoding="utf-8",
    )
    loaded = runner.invoke(args=["seed", "--directory", str(other)])
    assert loaded.exit_code == 0, loaded.output
    assert "1 new" in loaded.output
    org = db.session.scalar(sa.select(Organization).where(Organization.code == "NGO-NEW"))
    assert org.services[0].capacity == 6 and org.services[0].languages == ["es", "qu"]


def test_a_bad_directory_file_names_line_and_column_and_loads_nothing(app, db_tx, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,service_type,org_kind,region,city,min_age,max_age,sexes,"
        "accepts_transgender,accepts_foreign,capacity,hours,languages,nationalities,serves,notes\n"
        "OK-1,Bien,cem,mimp,08,Cusco,0,120,any,true,true,,24/7,es,,,\n"
        "BAD-1,Mal,spa,mimp,99,Cusco,0,120,X,true,true,,sometimes,es,,,\n",
        encoding="utf-8",
    )
    result = app.test_cli_runner().invoke(args=["seed", "--directory", str(bad)])
    assert result.exit_code == 1
    for column in ("service_type", "region", "sexes", "hours"):
        assert f"bad.csv:3: {column}" in result.output
    assert db.session.scalar(sa.select(Organization).where(Organization.code == "OK-1")) is None


def test_directory_page_filters_by_type_and_region(client, login_as):
    login_as("screener")
    html = client.get("/directory/?service_type=mimp_upe&region=17").get_data(as_text=True)
    assert "Unidad de Protección Especial Madre de Dios" in html
    assert "CEM-MDD" not in html and "UPE-CUS" not in html
    assert "lun–vie 08:00–17:00" in html


def test_directory_api_filters(api):
    response = api("caseworker", "UPE-MDD").get(
        "/api/v1/organizations?service_type=mimp_upe&region=17"
    )
    assert response.status_code == 200
    items = response.json["items"]
    assert [i["code"] for i in items] == ["UPE-MDD"]
    assert items[0]["eligibility"]["max_age"] == 17


def test_admin_edits_a_service_with_validation(client, login_as):
    login_as("admin")
    org = db.session.scalar(sa.select(Organization).where(Organization.code == "CEM-MDD"))
    sid = org.services[0].id
    url = f"/directory/CEM-MDD/services/{sid}/edit"
    page = client.get(url)
    token = csrf_from(page.get_data(as_text=True))
    form = {
        "csrf_token": token,
        "name": "CEM Puerto Maldonado",
        "region": "17",
        "city": "PM",
        "min_age": "0",
        "max_age": "120",
        "sexes": "any",
        "accepts_transgender": "y",
        "accepts_foreign": "y",
        "capacity": "",
        "hours": "every day",
        "languages": "es",
        "nationalities": "",
        "serves": "",
        "notes": "",
        "is_active": "y",
    }
    bad = client.post(url, data=form)
    assert bad.status_code == 422
    assert "Hay un problema" in bad.get_data(as_text=True)
    form["hours"] = "mon-sat 08:00-18:00"
    good = client.post(url, data=form)
    assert good.status_code == 302
    db.session.expire_all()
    service = db.session.get(Service, sid)
    assert service.hours == "mon-sat 08:00-18:00"
    assert service.organization.name == "CEM Puerto Maldonado"
