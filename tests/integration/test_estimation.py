"""GET /api/v1/reports/estimate, the estimate section of the overlap page and
``flask reports estimate``: shape, 422s, permission, Spanish page, disclosure."""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import pytest
import sqlalchemy as sa

from caseapp.audit.models import AuditEvent
from caseapp.extensions import db
from tests.integration.test_reports_api import post, screening

POLICE, PROSECUTOR, NGO, MIMP = "PNP-TRATA-MDD", "FISTRAP-MDD", "ONG-SERV-MDD", "CEM-MDD"
ORG_OF = {"police": POLICE, "prosecutor": PROSECUTOR, "ngo": NGO, "mimp": MIMP}

#: persons by the combination of organization kinds that identified them
BASE = {
    ("police",): 30,
    ("prosecutor",): 25,
    ("ngo",): 20,
    ("police", "prosecutor"): 12,
    ("police", "ngo"): 10,
    ("prosecutor", "ngo"): 10,
    ("police", "prosecutor", "ngo"): 5,
}


def build(api, cells: dict[tuple[str, ...], int], **person) -> None:
    """Each person is screened once by an organization of each kind of its combination;
    the same document links the screenings into one person."""
    clients = {kind: api("screener", org) for kind, org in ORG_OF.items()}
    for combo, n in cells.items():
        for _ in range(n):
            first = screening(**person)
            document = first["person"]["document"]["number"]
            post(clients[combo[0]], first)
            for kind in combo[1:]:
                body = screening(document, **person)
                body["person"] = first["person"]
                post(clients[kind], body)


@pytest.fixture(autouse=True)
def _fast_bootstrap(app, monkeypatch):
    """200 bootstrap replicates instead of 500: the same code, a quicker interval."""
    monkeypatch.setitem(app.config, "MSE_BOOTSTRAP_REPS", 200)


def estimate(client, query: str = "", status: int = 200) -> dict:
    response = client.get(f"/api/v1/reports/estimate?{query}")
    assert response.status_code == status, response.get_json()
    return response.json


def numbers(doc) -> list[int]:
    """Every integer anywhere in a document."""
    if isinstance(doc, bool):
        return []
    if isinstance(doc, int):
        return [doc]
    if isinstance(doc, dict):
        return [n for v in doc.values() for n in numbers(v)]
    if isinstance(doc, list):
        return [n for v in doc for n in numbers(v)]
    return []


# -- the API --------------------------------------------------------------------------------


def test_estimate_shape_for_a_statistician(api, k, app):
    k(10)
    build(api, BASE)
    doc = estimate(api("statistician", POLICE), "from=2026-01-01&to=2026-12-31")
    assert doc["report"] == "estimate"
    assert doc["criterion"] == "aic"
    assert doc["lists"] == ["police", "prosecutor", "ngo"]
    assert doc["threshold"] == 10 and doc["rounding"] == 10
    overall = doc["overall"]
    assert overall["status"] == "estimated", overall
    assert overall["observed"] == 110  # 112 persons, rounded to 10
    assert overall["estimate"] % 10 == 0 and overall["unseen"] % 10 == 0
    assert overall["ci_low"] <= overall["estimate"] <= overall["ci_high"]
    assert overall["estimate"] >= overall["observed"]
    assert "deviance" not in json.dumps(doc) and 'aic": 1' not in json.dumps(doc)
    assert {a["code"] for a in doc["assumptions"]} == {
        "closed_population",
        "correct_linkage",
        "independence",
    }
    assert doc["strata"] == []
    assert doc["labels"]["lists"]["police"]["es"].startswith("Policía")
    # audited, with the lists
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "report.read")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event.object_id == "estimate"
    assert '"lists":["police","prosecutor","ngo"]' in event.details


def test_estimate_by_sex_refuses_small_strata_and_their_complement(api, k, app):
    k(10)
    build(api, BASE, sex="F")
    build(api, {("police",): 2, ("prosecutor",): 1, ("police", "ngo"): 1}, sex="M")
    doc = estimate(api("statistician", POLICE), "by=sex")
    rows = {r["sex"]: r for r in doc["strata"]}
    assert rows["M"]["status"] == "refused"
    assert rows["M"]["refused"]["code"] == "too_few_persons"
    # F alone would give M back by subtraction from the overlap total: withheld too
    assert rows["F"]["status"] == "refused"
    assert rows["F"]["refused"]["code"] == "withheld"
    assert "observed" not in rows["F"] and "observed" not in rows["M"]
    assert doc["overall"]["status"] == "estimated"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lists=police,prosecutor", "lists"),
        ("lists=police,police,ngo", "lists"),
        ("lists=police,prosecutor,spies", "lists"),
        ("by=region", "by"),
        ("by=sex,age_group", "by"),
        ("from=2026-13-01", "from"),
        ("from=2026-05-01&to=2026-04-01", "to"),
        ("status=maybe", "status"),
        ("format=csv", "format"),
        ("unit=screenings", "unit"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(api, query, field):
    doc = estimate(api("statistician", POLICE), query, status=422)
    assert doc["error"]["code"] == "validation_failed"
    assert field in doc["error"]["fields"]


def test_permission_and_scope(api, app, client, k):
    k(10)
    build(api, BASE)
    assert client.get("/api/v1/reports/estimate").status_code == 401
    # a screener reads reports of its own organization: one kind, no estimate
    own = estimate(api("screener", POLICE))
    assert own["scope"] == "organization"
    assert own["overall"]["status"] == "refused"
    assert own["overall"]["refused"]["code"] == "too_few_lists"
    assert "observed" not in own["overall"]


def test_openapi_documents_the_estimate(api):
    spec = api("statistician", POLICE).get("/api/v1/openapi.json").json
    operation = spec["paths"]["/reports/estimate"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"from", "to", "lists", "by", "status"} <= names
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert "EstimateReport" in spec["components"]["schemas"]


def test_strata_come_from_each_persons_latest_screening(api, db_tx):
    """The overlap by stratum (PostgreSQL: DISTINCT ON + bit_or window; SQLite: the
    victims report's anti-join) puts a person under the sex of their latest screening."""
    from caseapp.reports import estimates
    from caseapp.reports.queries import FactFilter

    police, prosecutor, ngo = (api("screener", o) for o in (POLICE, PROSECUTOR, NGO))
    first = screening(sex="F", at="2026-03-01T10:00:00-05:00")
    post(police, first)
    later = screening(first["person"]["document"]["number"], at="2026-03-09T10:00:00-05:00")
    later["person"] = {**first["person"], "sex": "M"}
    post(prosecutor, later)
    post(ngo, screening(sex="F"))
    flt = FactFilter(None, None, ("indicated", "possible"), None)
    assert estimates.overlap_by_stratum(flt, "sex") == {
        "M": {frozenset({"police", "prosecutor"}): 1},
        "F": {frozenset({"ngo"}): 1},
    }
    assert estimates.overlap_by_stratum(flt, None) == {
        "": {frozenset({"police", "prosecutor"}): 1, frozenset({"ngo"}): 1}
    }


# -- disclosure -----------------------------------------------------------------------------


def test_a_suppressed_count_cannot_be_recovered_through_lists_or_strata(api, k, app, exact_counts):
    """3 persons seen only by MIMP: the overlap report suppresses that cell (and a
    complement). An attacker asks for every choice of lists and every stratum and
    subtracts published numbers from the overlap report's: never gets the 3. Cell-key
    noise is off here: exact published counts are the attacker's best case."""
    k(10)
    build(api, BASE, sex="F")
    build(api, {("mimp",): 3, ("police", "mimp"): 12}, sex="F")
    statistician = api("statistician", POLICE)
    overlap = statistician.get("/api/v1/reports/overlap").json
    hidden = [c for c in overlap["cells"] if c["suppressed"]]
    assert ["mimp"] in [c["combination"] for c in hidden]
    total = overlap["total_persons"]
    assert total == 127
    published = {tuple(c["combination"]): c["persons"] for c in overlap["cells"]}

    kinds = ["police", "prosecutor", "ngo", "mimp"]
    seen_observed = []
    for size in (3, 4):
        for lists in combinations(kinds, size):
            for by in ("", "&by=sex"):
                doc = estimate(statistician, f"lists={','.join(lists)}{by}")
                uncovered = [c for c in published if not set(c) & set(lists)]
                rows = [doc["overall"], *doc["strata"]]
                for row in rows:
                    if row["status"] == "estimated":
                        seen_observed.append((lists, row["observed"]))
                if ("mimp",) in uncovered:
                    # the observed count would be total - 3 - (published cells)
                    assert all(r["status"] == "refused" for r in rows), (lists, doc)
                    assert doc["overall"]["refused"]["code"] == "withheld"
                # nothing in 1..k-1 ever appears
                for n in numbers({"overall": doc["overall"], "strata": doc["strata"]}):
                    assert n == 0 or n >= 10 or n in (doc["overall"].get("model", {}).get("df"),)
    # every published observed count is the overlap total minus published cells, rounded
    for lists, observed in seen_observed:
        exact = total - sum(n for c, n in published.items() if not set(c) & set(lists))
        assert observed == 10 * round(exact / 10 + 1e-9) or abs(observed - exact) <= 5


def test_a_small_total_is_never_estimated(api, k, app):
    k(10)
    build(api, {("police",): 3, ("prosecutor",): 2, ("ngo",): 1, ("police", "ngo"): 1})
    doc = estimate(api("statistician", POLICE))
    assert doc["overall"]["status"] == "refused"
    assert doc["overall"]["refused"]["code"] == "too_few_persons"
    assert "observed" not in doc["overall"] and "estimate" not in doc["overall"]


# -- the page -------------------------------------------------------------------------------


def test_overlap_page_shows_the_estimate_in_spanish(api, app, client, login_as, k):
    k(10)
    build(api, BASE)
    login_as("statistician", POLICE)
    response = client.get(
        "/reports/overlap?from=2026-01-01&to=2026-12-31&status=indicated&status=possible"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Personas que ninguna institución ha visto" in html
    assert "Población cerrada" in html and "Vinculación correcta" in html
    assert 'id="estimate-chart"' in html
    assert "<script" not in html.split('id="estimate-chart"')[1].split("</svg>")[0]
    assert "style=" not in html.split('id="estimate-chart"')[1].split("</svg>")[0]
    assert "intervalo" in html


def test_overlap_page_estimate_by_stratum_and_bad_by(api, app, client, login_as, k):
    k(10)
    build(api, BASE)
    login_as("statistician", POLICE)
    ok = client.get("/reports/overlap?by=sex")
    assert ok.status_code == 200
    assert "Mujer" in ok.get_data(as_text=True) or "Femenino" in ok.get_data(as_text=True)
    bad = client.get("/reports/overlap?by=region")
    assert bad.status_code == 422
    assert "by" in bad.get_data(as_text=True)


# -- the CLI --------------------------------------------------------------------------------


def test_cli_estimates_a_table_and_prints_json_last(app, tmp_path: Path):
    table = tmp_path / "t.csv"
    rows = ["A,B,C,count"]
    for combo, n in BASE.items():
        names = {"police": "A", "prosecutor": "B", "ngo": "C"}
        flags = [str(int(x in {names[c] for c in combo})) for x in "ABC"]
        rows.append(",".join([*flags, str(n)]))
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["reports", "estimate", "--table", str(table), "--reps", "200"]
    )
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert {
        "observed",
        "estimate",
        "unseen",
        "ci_low",
        "ci_high",
        "model",
        "method",
        "criterion",
    } <= set(last)
    assert last["observed"] == 112


def test_cli_refuses_and_rejects_bad_files(app, tmp_path: Path):
    runner = app.test_cli_runner()
    two = tmp_path / "two.csv"
    two.write_text("A,B,count\n1,0,5\n0,1,4\n1,1,2\n", encoding="utf-8")
    refused = runner.invoke(args=["reports", "estimate", "--table", str(two)])
    assert refused.exit_code == 0
    last = json.loads(refused.output.strip().splitlines()[-1])
    assert last["refused"] is True and last["reason"] == "too_few_lists"

    bad = tmp_path / "bad.csv"
    bad.write_text("A,B,C,count\n1,0,0,5\n0,1,0,x\n", encoding="utf-8")
    result = runner.invoke(args=["reports", "estimate", "--table", str(bad)])
    assert result.exit_code != 0
    assert "line 3, column 'count'" in result.output
