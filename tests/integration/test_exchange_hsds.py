"""The service directory as Open Referral HSDS 3.0: export valid against the published
schema, import all or nothing, and a round trip into an empty database that changes
nothing."""

from __future__ import annotations

import copy
import json

import pytest
import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit.services import SYSTEM
from caseapp.directory.models import Service
from caseapp.exchange import hsds
from caseapp.extensions import db
from tests.conftest import make_app


def test_export_is_valid_hsds_and_carries_the_directory(client, api):
    response = api("screener").get("/api/v1/exports/hsds")
    assert response.status_code == 200
    doc = response.json
    assert list(hsds.problems(doc)) == []
    assert len(doc["services"]) == db.session.scalar(
        sa.select(sa.func.count()).select_from(Service)
    )
    upe = next(s for s in doc["services"] if s["name"].startswith("UPE") or "UPE" in s["name"])
    assert upe["status"] == "active"
    org = next(o for o in doc["organizations"] if o["id"] == upe["organization_id"])
    assert org["locations"][0]["location_type"] == "physical"
    assert org["locations"][0]["description"].endswith("Perú")
    attrs = {a["taxonomy_term"]["code"]: a["value"] for a in org["attributes"]}
    assert attrs["ruta:org_kind:mimp"] == "mimp"
    assert any(code.startswith("ruta:region:") for code in attrs)
    service_attrs = {a["taxonomy_term"]["code"] for a in upe["attributes"]}
    assert "ruta:service_type:mimp_upe" in service_attrs
    assert {lang["code"] for lang in upe["languages"]} >= {"es"}


def test_export_needs_a_token(client):
    assert client.get("/api/v1/exports/hsds").status_code == 401


def test_schema_problems_are_named(app, db_tx):
    doc = hsds.export_directory()
    bad = copy.deepcopy(doc)
    del bad["organizations"][0]["description"]
    bad["services"][0]["status"] = "open"
    bad["services"][1]["minimum_age"] = "ten"
    bad["services"][2]["phones"] = [{"id": "x", "number": "123"}]
    bad["organizations"][1]["locations"][0]["location_type"] = "street"
    bad["organizations"][2]["locations"][0]["phones"] = [{"id": "p"}]
    found = dict(hsds.problems(bad))
    assert "organizations[1].locations[0].location_type" in found
    assert "not read" in found["organizations[2]"]
    assert found["organizations[0]"] == "'description' is a required property"
    assert "services[0].status" in found
    assert found["services[1].minimum_age"] == "'ten' is not of type 'number'"
    assert "not read" in found["services[2].phones"]
    assert dict(hsds.problems({"organizations": {}})) == {
        "organizations": "required: a list",
        "services": "required: a list",
    }


def test_bad_file_saves_nothing(app, db_tx):
    doc = hsds.export_directory()
    bad = copy.deepcopy(doc)
    first = bad["services"][0]
    for attr in first["attributes"]:
        if attr["taxonomy_term"]["code"] == "ruta:sexes":
            attr["value"] = "X"
    bad["services"].append(
        {"id": "new", "name": "Nuevo", "status": "active", "organization_id": "nobody"}
    )
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Service))
    result = hsds.import_directory(SYSTEM, bad)
    db.session.rollback()
    paths = dict(result.errors)
    assert f"services[{len(bad['services']) - 1}].organization_id" in paths
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Service)) == before
    del bad["services"][-1]
    result = hsds.import_directory(SYSTEM, bad)
    db.session.rollback()
    assert any(p.startswith("services[0]") and "sexes" in p for p, _ in result.errors), (
        result.errors
    )


def test_round_trip_into_an_empty_database(app, db_tx, tmp_path):
    """export → import into an empty database → export: the same file."""
    exported = hsds.export_directory()
    empty = make_app(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    import flask_migrate

    from caseapp.directory import services as directory

    with empty.app_context():
        flask_migrate.upgrade()
        directory.seed_codes()
        directory.seed_regions()
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
        runner = empty.test_cli_runner()
        path = tmp_path / "directory.json"
        path.write_text(json.dumps(exported), encoding="utf-8")
        dry = runner.invoke(args=["directory", "import-hsds", str(path), "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0
        real = runner.invoke(args=["directory", "import-hsds", str(path)])
        assert real.exit_code == 0, real.output
        summary = json.loads(real.output.splitlines()[-1])
        assert summary["created"] == len(exported["organizations"])
        out = tmp_path / "again.json"
        again = runner.invoke(args=["directory", "export-hsds", "--out", str(out)])
        assert again.exit_code == 0, again.output
        assert json.loads(out.read_text(encoding="utf-8")) == exported
        # and importing it once more changes nothing
        twice = runner.invoke(args=["directory", "import-hsds", str(path)])
        assert json.loads(twice.output.splitlines()[-1])["created"] == 0
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("name", hsds.VENDORED)
def test_vendored_schema_files_are_there_with_their_licence(name):
    from importlib import resources

    folder = resources.files("caseapp.exchange").joinpath(hsds.SCHEMA_DIR)
    schema = json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
    assert schema["name"] == name and schema["type"] == "object"
    assert "CC BY-SA 4.0" in folder.joinpath("LICENSE.md").read_text(encoding="utf-8")
