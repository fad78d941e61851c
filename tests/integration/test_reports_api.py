"""GET /api/v1/reports/* (api.md §8, reports.md): units, dimensions, scope, suppression,
exports and layouts. Data is built through the screening API, as organizations would."""

from __future__ import annotations

import copy
import csv
import io
import re
from collections import Counter
from itertools import count

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from caseapp.audit.models import AuditEvent
from caseapp.core import codes
from caseapp.extensions import db
from caseapp.reports.layouts import CTDC_QUASI_IDENTIFIERS
from caseapp.reports.queries import VICTIM_DIMENSIONS
from tests.integration.test_screening_api import ROSA

POLICE, PROSECUTOR, NGO = "PNP-TRATA-MDD", "FISTRAP-MDD", "ONG-SERV-MDD"
_serial = count(1)


def _name(n: int) -> str:
    """A distinct alphabetic name per person, so name-based linkage never joins them."""
    letters = ""
    while True:
        n, r = divmod(n, 26)
        letters += "bcdfghjklmnpqrstvwxyzaeiou"[r]
        if n == 0:
            return "Ka" + letters


def screening(
    document: str | None = None,
    *,
    at: str = "2026-03-14T22:30:00-05:00",
    region: str = "17",
    sex: str = "F",
    age: int | None = 16,
    gender: str | None = None,
    nationality: tuple[str, ...] = ("PER",),
    purposes: tuple[str, ...] = ("sexual_exploitation",),
    context: bool = True,
    name: str | None = None,
) -> dict:
    """A screening like api.md §4's Rosa; a new person unless `document`/`name` repeat."""
    n = next(_serial)
    body = copy.deepcopy(ROSA)
    body["identified_at"] = at
    body["region"] = region
    body["purposes"] = list(purposes)
    person = body["person"]
    person.update(
        given_names=name or _name(n),
        family_names="Quispe",
        sex=sex,
        gender_identity=gender,
        age_years=age,
        nationality=list(nationality),
        # numbers several digits apart: probabilistic linkage takes a one-digit difference
        # with the same family name and birth year as a typo of one person's document
        document={"type": "dni", "number": document or f"{10000000 + n * 1111 % 89999999:08d}"},
    )
    if not context:
        body.pop("context")
        body.pop("identification_context")
    return body


def post(client, body) -> dict:
    response = client.post("/api/v1/screenings", json=body)
    assert response.status_code == 201, response.json
    return response.json


def victims(client, query: str = "", status: int = 200) -> dict:
    response = client.get(f"/api/v1/reports/victims?{query}")
    assert response.status_code == status, response.get_json()
    return response.json


def counts(doc: dict, *dims: str) -> Counter:
    dims = dims or tuple(doc["dimensions"])
    return Counter(
        {
            tuple(r[d] for d in dims) if len(dims) > 1 else r[dims[0]]: r["count"]
            for r in doc["rows"]
        }
    )


# -- units ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_one_person_seen_by_police_and_prosecutor(api, k):
    """The same document at two organizations: one person, two screenings, and the
    police + prosecutor overlap cell."""
    k(1)
    police, prosecutor = api("screener", POLICE), api("screener", PROSECUTOR)
    post(police, screening("71234567", at="2026-03-14T22:30:00-05:00"))
    post(prosecutor, screening("71234567", at="2026-03-20T10:00:00-05:00"))
    statistician = api("statistician", POLICE)

    persons = victims(statistician, "by=org_kind")
    screenings = victims(statistician, "by=org_kind&unit=screenings")
    assert persons["unit"] == "persons" and persons["total"] == {"count": 1, "suppressed": False}
    # org_kind for persons is that of the most recent screening in the range
    assert counts(persons) == {"prosecutor": 1}
    assert screenings["total"]["count"] == 2
    assert counts(screenings) == {"police": 1, "prosecutor": 1}

    overlap = statistician.get("/api/v1/reports/overlap").json
    assert overlap["sources"] == ["police", "prosecutor"]
    assert overlap["cells"] == [
        {"combination": ["police", "prosecutor"], "persons": 1, "suppressed": False}
    ]
    assert overlap["total_persons"] == 1 and overlap["total_screenings"] == 2


def test_person_counted_in_first_period_with_latest_attributes(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening("70000001", at="2026-01-10T10:00:00-05:00", region="17", age=16))
    post(police, screening("70000001", at="2026-03-05T10:00:00-05:00", region="08", age=18))
    statistician = api("statistician", POLICE)

    doc = victims(statistician, "by=month,region,age_group")
    assert counts(doc) == {("2026-01", "08", "adult"): 1}
    by_year = victims(statistician, "by=year")
    assert by_year["rows"] == [{"year": 2026, "count": 1, "suppressed": False}]
    as_screenings = victims(statistician, "by=month,region&unit=screenings")
    assert counts(as_screenings) == {("2026-01", "17"): 1, ("2026-03", "08"): 1}
    # The range decides what "first" and "most recent" mean.
    february_on = victims(statistician, "by=month,region&from=2026-02-01")
    assert counts(february_on) == {("2026-03", "08"): 1}
    january = victims(statistician, "by=month,region&to=2026-01-31")
    assert counts(january) == {("2026-01", "17"): 1}
    assert january["filters"] == {
        "from": None,
        "to": "2026-01-31",
        "status": ["indicated", "possible"],
    }


def test_period_bounds_are_lima_dates(api, k):
    """23:30 in Lima on 31 January is 04:30 UTC on 1 February: it belongs to January."""
    k(1)
    police = api("screener", POLICE)
    post(police, screening(at="2026-01-31T23:30:00-05:00"))
    statistician = api("statistician", POLICE)
    assert victims(statistician, "from=2026-01-31&to=2026-01-31")["total"]["count"] == 1
    assert victims(statistician, "from=2026-02-01")["total"]["count"] == 0


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_status_filter(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    weak = screening()
    weak["means"], weak["acts"] = [], []
    weak["person"]["age_years"] = 30
    status = post(police, weak)["determination"]["status"]
    assert status != "indicated"
    statistician = api("statistician", POLICE)
    default = victims(statistician, "by=status")
    everything = victims(statistician, "by=status&status=indicated,possible,not_indicated")
    only = victims(statistician, "by=status&status=indicated")
    assert everything["total"]["count"] == 2
    assert counts(everything) == {"indicated": 1, status: 1}
    assert counts(only) == {"indicated": 1}
    assert default["total"]["count"] == (2 if status == "possible" else 1)


# -- every dimension ----------------------------------------------------------------------------

A = {
    "sex": "F",
    "gender_identity": "woman",
    "age_group": "age_14_17",
    "unodc_category": "girl",
    "mp_band": "13_17",
    "ctdc_band": "9_17",
    "nationality": "PER",
    "nationality_group": "peruvian",
    "region": "17",
    "exploitation_region": "17",
    "exploitation_form": "sexual_exploitation",
    "purpose": "sexual_exploitation",
    "sector": "hospitality_bars",
    "identification_context": "police_operation",
    "org_kind": "police",
    "status": "indicated",
    "year": 2026,
    "month": "2026-03",
}
B = {
    "sex": "M",
    "gender_identity": "man",
    "age_group": "adult",
    "unodc_category": "man",
    "mp_band": "25_34",
    "ctdc_band": "30_38",
    "nationality": "VEN",
    "nationality_group": "foreign",
    "region": "1501",
    "exploitation_region": "unknown",
    "exploitation_form": "forced_labour",
    "purpose": "labour_exploitation",
    "sector": "unknown",
    "identification_context": "unknown",
    "org_kind": "prosecutor",
    "status": "indicated",
    "year": 2025,
    "month": "2025-12",
}


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
@pytest.mark.parametrize("dimension", VICTIM_DIMENSIONS)
def test_every_dimension(api, k, dimension):
    k(1)
    post(api("screener", POLICE), screening())
    post(
        api("screener", PROSECUTOR),
        screening(
            at="2025-12-20T09:00:00-05:00",
            region="1501",
            sex="M",
            age=30,
            nationality=("VEN",),
            purposes=("labour_exploitation",),
            context=False,
        ),
    )
    doc = victims(api("statistician", POLICE), f"by={dimension}")
    assert doc["dimensions"] == [dimension]
    assert counts(doc) == Counter([A[dimension], B[dimension]])
    assert doc["total"] == {"count": 2, "suppressed": False}
    assert doc["multi_valued"] == (["purpose"] if dimension == "purpose" else [])
    for row in doc["rows"]:
        assert set(row) == {dimension, "count", "suppressed"}
    assert set(doc["labels"][dimension]) == {str(A[dimension]), str(B[dimension])}
    assert set(doc) >= {
        "unit",
        "threshold",
        "dimensions",
        "rows",
        "total",
        "generated_at",
        "rule_version",
    }


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_four_dimensions_and_unknown_is_a_category(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    post(police, screening(sex="unknown", age=None, nationality=(), context=False))
    doc = victims(api("statistician", POLICE), "by=sex,age_group,nationality_group,sector")
    assert counts(doc) == {
        ("F", "age_14_17", "peruvian", "hospitality_bars"): 1,
        ("unknown", "unknown", "unknown", "unknown"): 1,
    }
    assert sum(r["count"] for r in doc["rows"]) == doc["total"]["count"] == 2
    assert doc["labels"]["sex"]["unknown"] == {"es": "No se sabe", "en": "Unknown"}


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_purpose_is_multi_valued(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening(purposes=("sexual_exploitation", "labour_exploitation")))
    post(police, screening(purposes=("sexual_exploitation",)))
    doc = victims(api("statistician", POLICE), "by=purpose")
    assert doc["multi_valued"] == ["purpose"]
    assert counts(doc) == {"sexual_exploitation": 2, "labour_exploitation": 1}
    assert doc["total"]["count"] == 2  # distinct persons, not the row sum (3)
    by_two = victims(api("statistician", POLICE), "by=purpose,sex&unit=screenings")
    assert counts(by_two) == {("sexual_exploitation", "F"): 2, ("labour_exploitation", "F"): 1}
    assert by_two["total"]["count"] == 2


def test_purposes_come_from_the_most_recent_screening(api, k):
    k(1)
    police = api("screener", POLICE)
    post(
        police,
        screening("70000009", at="2026-01-01T10:00:00-05:00", purposes=("sexual_exploitation",)),
    )
    post(
        police,
        screening(
            "70000009", at="2026-02-01T10:00:00-05:00", purposes=("forced_labour", "begging")
        ),
    )
    doc = victims(api("statistician", POLICE), "by=purpose")
    assert counts(doc) == {"forced_labour": 1, "begging": 1}
    assert doc["total"]["count"] == 1


# -- scope ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_each_organization_sees_only_its_own_screenings(api, k):
    k(1)
    police, prosecutor = api("screener", POLICE), api("screener", PROSECUTOR)
    post(police, screening("71111111", region="17"))
    post(prosecutor, screening("71111111", region="1501", at="2026-03-20T10:00:00-05:00"))
    post(prosecutor, screening(region="1501"))

    own = victims(police, "by=region")
    assert own["scope"] == "organization"
    # the police see their person with the attributes of their own screening only
    assert counts(own) == {"17": 1}
    assert counts(victims(prosecutor, "by=region")) == {"1501": 2}
    admin = api("admin", POLICE)
    assert counts(victims(admin, "by=region")) == {"17": 1}
    everyone = victims(api("statistician", NGO), "by=region")
    assert everyone["scope"] == "all"
    assert counts(everyone) == {"1501": 2}
    own_overlap = police.get("/api/v1/reports/overlap").json
    assert own_overlap["cells"] == [{"combination": ["police"], "persons": 1, "suppressed": False}]


def test_organization_is_not_a_dimension(api):
    response = api("statistician", POLICE).get("/api/v1/reports/victims?by=organization")
    assert response.status_code == 422
    assert "by" in response.json["error"]["fields"]


# -- suppression ------------------------------------------------------------------------------

SMALL = re.compile(r"(?<![\d.\-:<])(\d+)(?![\d.\-:])")


def assert_no_small(values, k: int) -> None:
    for value in values:
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            assert not 1 <= value < k, f"small count {value} published"


def _suppression_data(api, n_f: int = 5, n_m: int = 1, n_unknown: int = 4):
    police = api("screener", POLICE)
    for _ in range(n_f):
        post(police, screening(sex="F"))
    for _ in range(n_m):
        post(police, screening(sex="M", age=30))
    for _ in range(n_unknown):
        post(police, screening(sex="unknown", age=30))
    return api("statistician", POLICE)


def test_small_cells_and_their_complement_are_suppressed(api, k):
    k(3)
    statistician = _suppression_data(api)
    doc = victims(statistician, "by=sex")
    rows = {r["sex"]: r for r in doc["rows"]}
    assert rows["M"] == {"sex": "M", "count": None, "suppressed": True, "suppression": "primary"}
    # one hidden cell would be total minus the rest: the next smallest is hidden too
    assert rows["unknown"]["suppressed"] and rows["unknown"]["count"] is None
    # Published counts carry cell-key noise (ADR 0016): F is 5 +- min(2, 5 - k), the
    # total 10 +- 2; never below k, so the pattern of what is hidden is unchanged.
    assert rows["F"]["suppressed"] is False and 3 <= rows["F"]["count"] <= 7
    assert doc["total"]["suppressed"] is False and 8 <= doc["total"]["count"] <= 12
    assert doc["threshold"] == 3
    hidden = [r for r in doc["rows"] if r["suppressed"]]
    assert len(hidden) >= 2  # the total minus F is the sum of two hidden cells, not one
    assert_no_small([r["count"] for r in doc["rows"]] + [doc["total"]["count"]], 3)


def test_a_small_total_is_suppressed(api):
    police = api("screener", POLICE)
    for _ in range(3):
        post(police, screening())
    doc = victims(api("statistician", POLICE), "by=region")
    assert doc["threshold"] == 10
    assert doc["total"] == {"count": None, "suppressed": True, "suppression": "primary"}
    assert all(r["suppressed"] and r["count"] is None for r in doc["rows"])
    no_by = victims(api("statistician", POLICE), "")
    assert no_by["rows"] == [] and no_by["total"] == {
        "count": None,
        "suppressed": True,
        "suppression": "primary",
    }
    overlap = api("statistician", POLICE).get("/api/v1/reports/overlap").json
    assert overlap["total_persons"] is None and overlap["total_screenings"] is None
    assert all(c["persons"] is None for c in overlap["cells"])


def test_csv_and_xlsx_never_write_a_suppressed_number(api, k):
    k(3)
    statistician = _suppression_data(api)
    response = statistician.get("/api/v1/reports/victims?by=sex&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert table[0] == ["Sexo (código)", "Sexo", "Personas"]
    body = {row[0]: row[2] for row in table[1:5] if row}
    # F and Total carry cell-key noise (ADR 0016); every format shows the same figures
    as_json = victims(statistician, "by=sex")
    f_count = next(r["count"] for r in as_json["rows"] if r["sex"] == "F")
    total = as_json["total"]["count"]
    assert 3 <= f_count <= 7 and 8 <= total <= 12
    assert body == {"F": str(f_count), "M": "<3", "unknown": "oculto", "Total": str(total)}

    response = statistician.get("/api/v1/reports/victims?by=sex&format=xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.data))
    ws = wb.worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["Sexo (código)", "Sexo", "Personas"]
    assert {row[0]: row[2] for row in values[1:]} == {
        "F": f_count,
        "M": "<3",
        "unknown": "oculto",
        "Total": total,
    }
    assert_no_small([v for row in values for v in row], 3)
    assert "Notas" in wb.sheetnames


def test_json_download_of_other_reports(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    statistician = api("statistician", POLICE)
    for path in ("overlap", "referrals", "gaps", "occupancy"):
        for fmt in ("csv", "xlsx"):
            response = statistician.get(f"/api/v1/reports/{path}?format={fmt}")
            assert response.status_code == 200, (path, fmt)
            assert response.headers["Content-Disposition"].startswith("attachment;")


# -- referrals, gaps, occupancy -------------------------------------------------------------------


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_referrals_report(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    post(police, screening(sex="M", age=30))
    doc = api("statistician", POLICE).get("/api/v1/reports/referrals").json
    assert doc["dimensions"] == ["service_type", "status"]
    assert doc["total"]["count"] == sum(r["count"] for r in doc["rows"]) > 0
    for row in doc["rows"]:
        assert set(row) >= {
            "service_type",
            "status",
            "count",
            "suppressed",
            "overdue",
            "median_hours_to_acceptance",
        }
    by_outcome = api("statistician", POLICE).get("/api/v1/reports/referrals?by=outcome,region").json
    assert {r["outcome"] for r in by_outcome["rows"]} <= {
        "pending",
        "accepted",
        "declined",
        "cancelled",
    }
    assert {r["region"] for r in by_outcome["rows"]} == {"17"}
    assert "decline_reasons" in doc and "overdue_total" in doc
    other = api("statistician", POLICE).get("/api/v1/reports/referrals?by=provider")
    assert other.status_code == 422 and "by" in other.json["error"]["fields"]


def test_referral_median_needs_k_accepted(api, k):
    k(1)
    screener = api("screener", "PNP-TRATA-LIM")
    body = screening(region="1501", sex="F", age=24, nationality=("VEN",))
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = post(screener, body)
    cem = next(r for r in doc["referrals"] if r["service_type"] == "cem")
    screener.post(f"/api/v1/referrals/{cem['id']}/send")
    receiver = api("caseworker", cem["provider"]["code"])
    assert receiver.post(f"/api/v1/referrals/{cem['id']}/accept").status_code == 200
    report = (
        api("statistician", POLICE).get("/api/v1/reports/referrals?by=service_type,outcome").json
    )
    row = next(
        r for r in report["rows"] if r["service_type"] == "cem" and r["outcome"] == "accepted"
    )
    assert isinstance(row["median_hours_to_acceptance"], float)
    k(2)
    report = (
        api("statistician", POLICE).get("/api/v1/reports/referrals?by=service_type,outcome").json
    )
    row = next(r for r in report["rows"] if r["service_type"] == "cem")
    assert row["median_hours_to_acceptance"] is None  # one acceptance < k


def test_gaps_report_by_profile(api, k):
    k(1)
    screener = api("screener", POLICE)
    post(screener, screening(sex="M", age=35, region="17"))
    doc = api("statistician", POLICE).get("/api/v1/reports/gaps?by=gap,profile").json
    assert doc["dimensions"] == ["gap", "profile"]
    assert doc["total"]["count"] == sum(r["count"] for r in doc["rows"])
    assert counts(doc) == {("no_state_shelter_adult_men", "adult_man"): 1}
    assert doc["labels"]["profile"]["adult_man"]["es"] == "Hombres adultos"
    default = api("statistician", POLICE).get("/api/v1/reports/gaps").json
    assert default["dimensions"] == ["gap", "region"]


def _admit_one(api) -> None:
    """Screen, consent, send to the Lima women's shelter, accept and admit (one resident)."""
    screener = api("screener", "ONG-REF-TUM-W")
    body = screening(region="1501", sex="F", age=24, nationality=("VEN",))
    body["consent"] = {"given": True, "scope": ["all"]}
    doc = post(screener, body)
    shelter = next(r for r in doc["referrals"] if r["service_type"] == "ngo_shelter")
    assert shelter["provider"]["code"] == "ONG-REF-LIM-W"
    screener.post(f"/api/v1/referrals/{shelter['id']}/send")
    worker = api("caseworker", "ONG-REF-LIM-W")
    assert worker.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admitted = worker.post(
        "/api/v1/admissions",
        json={"referral_id": shelter["id"], "admitted_at": "2026-03-11T09:00:00-05:00"},
    )
    assert admitted.status_code == 201, admitted.json


def test_occupancy_suppresses_small_occupied_counts(api, k):
    k(3)
    _admit_one(api)
    doc = (
        api("statistician", POLICE)
        .get("/api/v1/reports/occupancy?from=2026-02-01&to=2026-04-30")
        .json
    )
    assert all(
        {"capacity", "occupied", "suppressed", "provider", "region"} <= set(r) for r in doc["rows"]
    )
    row = next(r for r in doc["rows"] if r["provider"] == "ONG-REF-LIM-W")
    assert row["occupied"] is None and row["suppressed"] and row["capacity"] == 12
    lima = next(r for r in doc["regions"] if r["region"] == "1501")
    assert lima["suppressed"] and lima["count"] is None
    assert doc["total"] == {"count": None, "suppressed": True, "suppression": "primary"}
    assert doc["series"] == [
        {"month": "2026-02", "count": 0, "suppressed": False},
        {"month": "2026-03", "count": None, "suppressed": True, "suppression": "primary"},
        {"month": "2026-04", "count": None, "suppressed": True, "suppression": "primary"},
    ]
    assert "free" not in str(doc) and "available" not in str(doc)
    assert_no_small(
        [r["occupied"] for r in doc["rows"]] + [r["count"] for r in doc["regions"] + doc["series"]],
        3,
    )
    k(1)
    own = api("caseworker", "ONG-REF-LIM-W").get("/api/v1/reports/occupancy").json
    assert [(r["provider"], r["occupied"]) for r in own["rows"]] == [("ONG-REF-LIM-W", 1)]
    assert own["scope"] == "organization"


# -- layouts --------------------------------------------------------------------------------------


def _layout_data(api, n: int = 4) -> None:
    police = api("screener", POLICE)
    for _ in range(n):
        post(police, screening(sex="F", age=16))
    for _ in range(n):
        post(
            police,
            screening(
                sex="M",
                age=30,
                region="1501",
                nationality=("VEN",),
                purposes=("labour_exploitation",),
                context=False,
            ),
        )
    post(
        police,
        screening(
            sex="F", age=40, region="15", nationality=("COL",), purposes=("forced_marriage",)
        ),
    )


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_unodc_glotip_layout(api, k):
    k(1)
    _layout_data(api, 2)
    doc = api("statistician", POLICE).get("/api/v1/reports/export/unodc_glotip").json
    assert doc["layout"] == "unodc_glotip" and doc["unit"] == "persons"
    (table,) = doc["tables"]
    assert table["dimensions"] == ["sex_age", "form", "citizenship"]
    assert counts(table) == {
        ("girls", "sexual exploitation", "nationals"): 2,
        ("men", "forced labour", "foreigners"): 2,
        ("women", "forced marriage", "foreigners"): 1,
    }
    xlsx = api("statistician", POLICE).get("/api/v1/reports/export/unodc_glotip?format=xlsx")
    ws = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    header = [c.value for c in ws[1]]
    assert header == [
        "Sexo y edad (código)",
        "Sexo y edad",
        "Forma de explotación (GLOTIP) (código)",
        "Forma de explotación (GLOTIP)",
        "Ciudadanía (código)",
        "Ciudadanía",
        "Personas",
    ]


@pytest.mark.usefixtures("exact_counts")  # counting semantics; noise: test_differencing_attack
def test_inei_layout_keeps_lima_metropolitana_apart(api, k):
    k(1)
    _layout_data(api, 2)
    doc = api("statistician", POLICE).get("/api/v1/reports/export/inei").json
    names = [t["name"] for t in doc["tables"]]
    assert names == ["by_department", "by_sex", "by_age_group", "by_purpose"]
    department = counts(doc["tables"][0])
    assert department["1501"] == 2 and department["15"] == 1 and department["17"] == 2
    assert department["lima_department"] == 3
    subtotal = [r for r in doc["tables"][0]["rows"] if r["subtotal"]]
    assert [r["region"] for r in subtotal] == ["lima_department"]
    assert doc["tables"][3]["multi_valued"] == ["purpose"]
    response = api("statistician", POLICE).get("/api/v1/reports/export/inei?format=xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert len(wb.sheetnames) == 5  # four tables and the notes


def test_inei_lima_subtotal_does_not_reveal_a_part(api, k):
    """1501 small, 15 large: the subtotal minus 15 would give 1501 back."""
    k(3)
    police = api("screener", POLICE)
    for _ in range(4):
        post(police, screening(region="15"))
    post(police, screening(region="1501"))
    for _ in range(5):
        post(police, screening(region="17"))
    table = api("statistician", POLICE).get("/api/v1/reports/export/inei").json["tables"][0]
    rows = {r["region"]: r for r in table["rows"]}
    assert rows["1501"]["suppressed"]
    assert rows["15"]["suppressed"] or rows["lima_department"]["suppressed"]


def test_ctdc_layout_is_k_anonymous_and_for_statisticians_only(api, k):
    k(3)
    _layout_data(api, 4)
    response = api("statistician", POLICE).get("/api/v1/reports/export/ctdc")
    assert response.status_code == 200
    doc = response.json
    assert doc["columns"][:6] == [
        "yearOfRegistration",
        "Datasource",
        "gender",
        "ageBroad",
        "majorityStatus",
        "citizenship",
    ]
    classes = Counter(tuple(r[q] for q in CTDC_QUASI_IDENTIFIERS) for r in doc["rows"])
    assert classes and min(classes.values()) >= 3
    assert len(doc["rows"]) + doc["dropped"] == 9
    assert all(set(r) == set(doc["columns"]) for r in doc["rows"])
    girl = next(r for r in doc["rows"] if r["gender"] == "Female")
    assert girl["majorityStatus"] == "Minor" and girl["isSexualExploit"] == 1
    assert "Quispe" not in str(doc) and "dni" not in str(doc)
    for role in ("screener", "admin", "supervisor"):
        forbidden = api(role, POLICE).get("/api/v1/reports/export/ctdc")
        assert forbidden.status_code == 403, role
    assert api("screener", POLICE).get("/api/v1/reports/export/inei").status_code == 200
    assert api("statistician", POLICE).get("/api/v1/reports/export/nope").status_code == 404
    csv_text = (
        api("statistician", POLICE)
        .get("/api/v1/reports/export/ctdc?format=csv")
        .data.decode("utf-8-sig")
    )
    assert csv_text.splitlines()[0].startswith("yearOfRegistration,Datasource,gender")


# -- errors and audit -----------------------------------------------------------------------------

BAD = [
    ("by=nope", "by"),
    ("by=sex,age_group,region,year,month", "by"),
    ("by=sex,sex", "by"),
    ("from=2026-02-30", "from"),
    ("to=yesterday", "to"),
    ("from=2026-03-01&to=2026-02-01", "to"),
    ("unit=cases", "unit"),
    ("status=maybe", "status"),
    ("format=pdf", "format"),
    ("region=17", "region"),
]


@pytest.mark.parametrize(("query", "field"), BAD)
def test_bad_parameters_are_422_naming_the_field(api, query, field):
    doc = victims(api("statistician", POLICE), query, status=422)
    assert doc["error"]["code"] == "validation_failed"
    assert field in doc["error"]["fields"]


def test_every_report_request_is_audited_without_personal_data(api, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    statistician = api("statistician", POLICE)
    victims(statistician, "by=sex,region&from=2026-01-01")
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "report.read")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event.actor_email == statistician.user["email"]
    assert event.object_id == "victims"
    assert '"by":["sex","region"]' in event.details and '"from":"2026-01-01"' in event.details
    assert '"scope":"all"' in event.details
    assert "Quispe" not in event.details and "71234567" not in event.details


def test_openapi_documents_the_report_endpoints(api):
    spec = api("statistician", POLICE).get("/api/v1/openapi.json").json
    for path in (
        "/reports/victims",
        "/reports/overlap",
        "/reports/referrals",
        "/reports/gaps",
        "/reports/occupancy",
        "/reports/export/{layout}",
    ):
        assert "get" in spec["paths"][path]
    assert "VictimsReport" in spec["components"]["schemas"]
    assert codes.get("org_kind")


def test_report_statements_get_their_sort_memory_for_the_transaction_only(app, db_tx):
    from caseapp.reports import queries

    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        pytest.skip("work_mem is a PostgreSQL setting; SQLite has nothing to set")
    before = conn.exec_driver_sql("SHOW work_mem").scalar()
    assert before != app.config["REPORTS_WORK_MEM"] == "256MB"
    savepoint = conn.begin_nested()
    queries.sort_in_memory()
    assert conn.exec_driver_sql("SHOW work_mem").scalar() == "256MB"
    savepoint.rollback()  # a local setting ends with its (sub)transaction
    assert conn.exec_driver_sql("SHOW work_mem").scalar() == before
