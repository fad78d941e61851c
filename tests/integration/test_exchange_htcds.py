"""HTCDS 2.0 exchange: export scoped to the organization, import as historical screenings
(idempotent, no referrals, all or nothing), and who may do it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.audit.services import SystemActor
from caseapp.exchange import htcds_import, htcds_schema
from caseapp.exchange.models import ExchangeRecord
from caseapp.extensions import db
from caseapp.facts.models import ScreeningFact
from caseapp.referrals.models import Referral
from caseapp.screening.models import Case

OWN = "PNP-TRATA-MDD"
OTHER = "PNP-TRATA-CUS"
TARGET = "UDAVIT-AMA"


def payload(given: str, family: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identified_at": "2024-03-14T22:30:00-05:00",
        "region": "17",
        "identification_context": "police_operation",
        "person": {
            "given_names": given,
            "family_names": family,
            "sex": "F",
            "gender_identity": "feminine",
            "age_years": 16,
            "age_estimated": True,
            "nationality": ["PER", "VEN"],
            "document": {"type": "dni", "number": "71234567"},
            "languages": ["es", "qu"],
        },
        "acts": ["recruitment", "transport"],
        "means": ["deception"],
        "purposes": ["sexual_exploitation", "organ_removal"],
        "indicators": ["withholds_documents", "isolation"],
        "context": {
            "origin_region": "08",
            "exploitation_region": "17",
            "sector": "hospitality_bars",
            "trafficker_relation": "stranger",
            "recruitment_method": "job_offer",
        },
        "needs": ["shelter"],
    }
    body.update(extra)
    return body


@pytest.fixture
def two_orgs_cases(api: Any) -> dict[str, Any]:
    own = api("screener", OWN)
    other = api("screener", OTHER)
    ids = []
    for given in ("Rosa", "Ana"):
        r = own.post("/api/v1/screenings", json=payload(given, "Quispe Mamani"))
        assert r.status_code == 201, r.json
        ids.append(r.json["case_id"])
    r = other.post("/api/v1/screenings", json=payload("Lucia", "Condori"))
    assert r.status_code == 201
    return {"own": ids, "other": r.json["case_id"]}


def org(code: str) -> Organization:
    return db.session.scalar(sa.select(Organization).where(Organization.code == code))


def export_of(api: Any, code: str = OWN) -> dict[str, Any]:
    response = api("supervisor", code).get("/api/v1/exports/htcds")
    assert response.status_code == 200, response.json
    return response.json


# -- export ---------------------------------------------------------------------------------


def test_export_has_the_documented_shape_and_only_own_cases(api, two_orgs_cases):
    doc = export_of(api)
    assert list(htcds_schema.problems(doc)) == []
    ids = {c["CaseId"] for c in doc["cases"]}
    assert set(two_orgs_cases["own"]) <= ids
    assert two_orgs_cases["other"] not in ids  # never another organization's case
    assert doc["organisation"]["Code"] == OWN
    assert doc["organisation"]["Type"] == "LawEnforcement"
    case = next(c for c in doc["cases"] if c["CaseId"] == two_orgs_cases["own"][0])
    assert case["Person"]["FirstName"] == "Rosa"
    assert case["Person"]["Gender"] == "Feminine"
    assert case["Person"]["Citizenship"] == ["PE", "VE"]
    assert case["Person"]["PrimaryLanguage"] == "spa"
    assert case["Person"]["SecondaryLanguage"] == "que"
    assert case["Victim"]["TypeOfExploitation"] == ["SexualExploitation", "Other"]
    assert case["Victim"]["MethodsOfControl"] == ["WithholdsDocuments", "Other"]
    assert case["Victim"]["ForcedLabourIndustry"] == "I_AccommodationAndFoodServiceActivities"
    assert case["Victim"]["RelationshipToTrafficker"] == "Unaquainted"
    assert case["Victim"]["MethodOfRecruitment"] == ["JobOffer"]
    assert case["TraffickingStatus"] == "PossibleVictimOfTrafficking"
    assert [e["Type"] for e in case["HistoricTraffickingEvents"]] == ["Recruitment", "Exploitation"]
    assert case["HistoricTraffickingEvents"][0]["State"] == "Cusco"
    assert case["OutgoingReferrals"], "the screening planned referrals; they are exported"
    assert {r["ruta"]["service_type"] for r in case["OutgoingReferrals"]} >= {"mimp_upe"}
    assert case["ruta"]["screening"]["acts"] == ["recruitment", "transport"]
    assert case["ruta"]["screening"]["person"]["document"] == {"type": "dni", "number": "71234567"}


def test_export_is_audited_case_by_case(api, two_orgs_cases):
    from caseapp.audit.models import AuditEvent

    export_of(api)
    db.session.expire_all()
    exported = set(
        db.session.scalars(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "case.export")
        )
    )
    assert set(two_orgs_cases["own"]) <= exported
    assert two_orgs_cases["other"] not in exported
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "htcds.export"))


@pytest.mark.parametrize("role", ["screener", "caseworker", "statistician", "admin"])
def test_export_refused_to_other_roles(api, role):
    assert api(role, OWN).get("/api/v1/exports/htcds").status_code == 403


def test_export_needs_a_token(client):
    response = client.get("/api/v1/exports/htcds")
    assert response.status_code == 401


def test_download_page(client, login_as, two_orgs_cases):
    login_as("supervisor", OWN)
    page = client.get("/exports/htcds")
    assert page.status_code == 200
    assert "HTCDS 2.0" in page.get_data(as_text=True)
    download = client.get("/exports/htcds?download=1")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    doc = json.loads(download.get_data(as_text=True))
    assert {c["CaseId"] for c in doc["cases"]} >= set(two_orgs_cases["own"])


def test_download_page_refused_to_a_screener(client, login_as):
    login_as("screener", OWN)
    assert client.get("/exports/htcds?download=1").status_code == 403


# -- import ---------------------------------------------------------------------------------


def run_import(doc: Any, code: str = TARGET, dry_run: bool = False) -> htcds_import.ImportResult:
    target = org(code)
    actor = SystemActor(email="system:test", organization_id=target.id)
    result = htcds_import.import_cases(actor, target, doc, dry_run=dry_run)
    db.session.flush()
    return result


def counts(code: str = TARGET) -> tuple[int, int, int]:
    target = org(code)
    cases = db.session.scalar(
        sa.select(sa.func.count()).select_from(Case).where(Case.organization_id == target.id)
    )
    referrals = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Referral)
        .where(Referral.referring_org_id == target.id)
    )
    facts = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ScreeningFact)
        .where(ScreeningFact.organization_id == target.id)
    )
    return cases, referrals, facts


def test_import_creates_historical_cases_once(api, two_orgs_cases):
    doc = export_of(api)
    n = len(doc["cases"])
    before = counts()
    result = run_import(doc)
    assert result.ok, result.errors
    assert (result.created, result.unchanged) == (n, 0)
    cases, referrals, facts = counts()
    assert cases == before[0] + n
    assert facts == before[2] + n  # counted in statistics
    assert referrals == before[1]  # historical: no referral planned
    again = run_import(doc)
    assert (again.created, again.unchanged) == (0, n)
    assert counts() == (cases, referrals, facts)
    record = db.session.scalar(
        sa.select(ExchangeRecord).where(ExchangeRecord.source_case_id == two_orgs_cases["own"][0])
    )
    imported = db.session.get(Case, record.case_id)
    assert imported.organization.code == TARGET
    assert imported.person.given_names == "Rosa"
    assert imported.person.document_number == "71234567"
    assert imported.screenings[0].identified_at.year == 2024


def test_dry_run_saves_nothing(api, two_orgs_cases):
    doc = export_of(api)
    before = counts()
    result = run_import(doc, dry_run=True)
    assert result.ok and result.created == len(doc["cases"])
    assert counts() == before


def test_bad_file_names_every_problem_and_saves_nothing(api, two_orgs_cases):
    doc = export_of(api)
    bad = copy.deepcopy(doc)
    bad["cases"][0]["ruta"]["screening"]["purposes"] = ["sexual_exploitation", "smuggling"]
    del bad["cases"][1]["ruta"]["screening"]["person"]["sex"]
    bad["cases"].append(copy.deepcopy(doc["cases"][0]))  # the same source case twice
    before = counts()
    result = run_import(bad)
    paths = dict(result.errors)
    assert "cases[0].ruta.screening.purposes[1]" in paths
    assert "cases[1].ruta.screening.person.sex" in paths
    assert paths[f"cases[{len(bad['cases']) - 1}].CaseId"].startswith("duplicate")
    assert result.created == 0
    assert counts() == before


def test_unknown_htcds_values_and_missing_fields_are_reported(api, two_orgs_cases):
    doc = export_of(api)
    bad = copy.deepcopy(doc)
    bad["cases"][0]["Person"]["Gender"] = "Female"
    bad["cases"][0]["Victim"]["MethodsOfControl"] = ["Telepathy"]
    del bad["cases"][1]["Person"]
    bad["cases"][1]["Nickname"] = "x"
    before = counts()
    result = run_import(bad)
    paths = dict(result.errors)
    assert paths["cases[0].Person.Gender"] == "unknown value 'Female'"
    assert paths["cases[0].Victim.MethodsOfControl[0]"] == "unknown value 'Telepathy'"
    assert paths["cases[1].Person"] == "required"
    assert paths["cases[1].Nickname"] == "unknown field"
    assert counts() == before  # nothing saved
    assert result.created == 0


def test_third_party_file_is_read_through_the_crosswalks(app, db_tx):
    doc = {
        "standard": "HTCDS",
        "version": "2.0",
        "cases": [
            {
                "CaseId": "NGO-2019-001",
                "IdentificationDate": "2019-05-02",
                "Region": "15",
                "Person": {
                    "FirstName": "María",
                    "SecondName": "Huamán",
                    "Gender": "Feminine",
                    "Birthdate": "1990-01-01",
                    "Citizenship": ["VE"],
                    "PrimaryLanguage": "spa",
                    "SecondaryLanguage": "fra",
                },
                "Victim": {
                    "TypeOfExploitation": ["Both"],
                    "MethodsOfControl": ["DebtBondage", "Threats"],
                    "ForcedLabourIndustry": "T_ActivitiesOfHouseholdsAsEmployers",
                    "RelationshipToTrafficker": "Familial",
                    "MethodOfRecruitment": ["Internet"],
                },
                "HistoricTraffickingEvents": [
                    {"Type": "Recruitment", "Country": "VE"},
                    {"Type": "Exploitation", "Country": "PE", "State": "Lima Metropolitana"},
                ],
            },
            {"CaseId": "NGO-2019-002", "Person": {"Citizenship": ["QQ"]}, "Victim": {}},
        ],
    }
    result = run_import(doc)
    paths = dict(result.errors)
    assert set(paths) == {"cases[1].IdentificationDate", "cases[1].Person.Citizenship[0]"}
    del doc["cases"][1]
    result = run_import(doc)
    assert result.ok and result.created == 1, result.errors
    record = db.session.scalar(
        sa.select(ExchangeRecord).where(ExchangeRecord.source_case_id == "NGO-2019-001")
    )
    case = db.session.get(Case, record.case_id)
    screening = case.screenings[0]
    assert case.person.sex == "F" and case.person.nationality == ["VEN"]
    assert case.person.languages == ["es", "other"]
    assert screening.purposes == ["sexual_exploitation", "forced_labour"]
    assert screening.indicators == ["debt_bondage", "threats"]
    assert screening.context["origin_region"] == "abroad"
    assert screening.context["exploitation_region"] == "1501"
    assert screening.context["sector"] == "domestic_work"
    assert screening.context["trafficker_relation"] == "family"
    assert screening.acts == [] and screening.means == []  # HTCDS does not record them


def test_not_json_is_a_clear_error():
    from caseapp.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        htcds_import.read_file(b"\xff\xfe{")
    assert "UTF-8" in exc.value.fields["(file)"][0]
    with pytest.raises(ValidationFailed) as exc:
        htcds_import.read_file(b'{"cases": [}')
    assert "not JSON" in exc.value.fields["(file)"][0]


def test_cli_export_and_import(app, api, two_orgs_cases, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "cases.json"
    result = runner.invoke(args=["export", "htcds", "--org", OWN, "--out", str(out)])
    assert result.exit_code == 0, result.output
    n = json.loads(result.output.splitlines()[-1])["cases"]
    assert n >= 2
    assert out.stat().st_mode & 0o777 == 0o600  # personal data in clear: owner only
    dry = runner.invoke(args=["exchange", "import-htcds", str(out), "--org", TARGET, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output.splitlines()[-1])["dry_run"] is True
    real = runner.invoke(args=["exchange", "import-htcds", str(out), "--org", TARGET])
    assert json.loads(real.output.splitlines()[-1])["created"] == n
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["cases"][0]["ruta"]["screening"]["region"] = "99"
    doc["cases"][0]["CaseId"] = "new-one"
    out.write_text(json.dumps(doc), encoding="utf-8")
    bad = runner.invoke(args=["exchange", "import-htcds", str(out), "--org", TARGET])
    assert bad.exit_code == 1
    assert "cases[0].ruta.screening.region" in bad.output


# -- through the register import (flask import run … --profile htcds) -----------------------


def import_run(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["import", "run", *args])


def last_json(result: Any) -> dict[str, Any]:
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_register_import_reads_htcds_files(app, api, two_orgs_cases, tmp_path):
    from caseapp.imports.models import ImportRecord

    path = tmp_path / "cases.json"
    doc = export_of(api)
    path.write_text(json.dumps(doc), encoding="utf-8")
    n = len(doc["cases"])
    before = counts()
    dry = import_run(app, str(path), "--profile", "htcds", "--org", TARGET, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert last_json(dry)["created"] == n
    assert counts() == before
    first = import_run(app, str(path), "--profile", "htcds", "--org", TARGET)
    assert first.exit_code == 0, first.output
    assert last_json(first)["created"] == n
    cases, referrals, facts = counts()
    assert (cases, facts) == (before[0] + n, before[2] + n)
    assert referrals == before[1]  # historical: no referrals
    records = db.session.scalars(
        sa.select(ImportRecord).where(ImportRecord.organization_id == org(TARGET).id)
    ).all()
    assert len(records) == n and {r.register for r in records} == {"HTCDS"}
    # provenance: the source record id is the HTCDS CaseId (kept encrypted)
    record = next(r for r in records if r.source_record_id == two_orgs_cases["own"][0])
    case = db.session.get(Case, record.case_id)
    assert case.person.given_names == "Rosa"
    assert case.person.document_number == "71234567"
    screening = case.screenings[0]
    assert screening.acts == ["recruitment", "transport"]
    assert screening.identified_at.isoformat().startswith("2024-03-15T03:30")  # 22:30 Lima
    again = import_run(app, str(path), "--profile", "htcds", "--org", TARGET)
    assert last_json(again)["created"] == 0
    assert last_json(again)["already_imported"] == n


def test_register_import_names_htcds_problems(app, api, two_orgs_cases, tmp_path):
    doc = export_of(api)
    doc["cases"][0]["Person"]["Gender"] = "Female"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = counts()
    result = import_run(app, str(path), "--profile", "htcds", "--org", TARGET)
    assert result.exit_code != 0
    assert "cases[0].Person.Gender: unknown value 'Female'" in result.output
    assert counts() == before
    doc = export_of(api)
    doc["cases"][1]["ruta"]["screening"]["purposes"] = ["smuggling"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = import_run(app, str(path), "--profile", "htcds", "--org", TARGET)
    assert result.exit_code != 0
    assert "smuggling" in result.output and "purposes" in result.output
    assert counts() == before


def test_a_closed_case_arrives_closed(api, two_orgs_cases):
    worker = api("caseworker", OWN)
    closed_id = two_orgs_cases["own"][1]
    case = worker.get(f"/api/v1/cases/{closed_id}").json
    r = worker.patch(
        f"/api/v1/cases/{closed_id}", json={"version": case["version"], "status": "closed"}
    )
    assert r.status_code == 200, r.json
    doc = export_of(api)
    exported = {c["CaseId"]: c for c in doc["cases"]}
    assert exported[closed_id]["Status"] == "Closed"
    assert run_import(doc).ok
    status = {}
    for source_id in two_orgs_cases["own"]:
        record = db.session.scalar(
            sa.select(ExchangeRecord).where(ExchangeRecord.source_case_id == source_id)
        )
        status[source_id] = db.session.get(Case, record.case_id).status
    assert status == {two_orgs_cases["own"][0]: "open", closed_id: "closed"}
