"""Issue 13, finding 4: small counts derived by differencing periods (ADR 0016).

The attack, as a statistician would run it: Tumbes (region 24) has 14 persons from
1 January to 1 July and 15 to 2 July, so one victim was identified in Tumbes on 2 July,
although no published cell is small. Here it is repeated over twelve days and through
every way a count leaves Ruta: the JSON API, CSV and XLSX downloads, the report page
(table and chart), and the INEI, UNODC GLOTIP and CTDC layouts.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from caseapp.extensions import db
from caseapp.facts.models import ScreeningFact
from caseapp.reports import cellkey, recordkeys
from tests.integration.test_reports_api import POLICE, post, screening
from tests.integration.test_reports_pages import page_user  # noqa: F401 (fixture)

TUMBES = "24"
START = date(2025, 1, 1)
FIRST_CUT = date(2025, 7, 1)
DAYS = 12  # one new person in Tumbes on each of 2 .. 13 July
K = 10
GIRLS = ("girls", "sexual exploitation", "nationals")  # the GLOTIP cell of these persons


def _build(api) -> None:
    police = api("screener", POLICE)
    for i in range(14):
        post(police, screening(region=TUMBES, at=f"2025-03-{i + 1:02d}T10:00:00-05:00"))
    for i in range(20):
        post(police, screening(region="15", at=f"2025-04-{i + 1:02d}T10:00:00-05:00"))
    for day in range(DAYS):
        when = FIRST_CUT + timedelta(days=day + 1)
        post(police, screening(region=TUMBES, at=f"{when.isoformat()}T10:00:00-05:00"))


def _cuts() -> list[date]:
    return [FIRST_CUT + timedelta(days=d) for d in range(DAYS + 1)]


def _csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx_rows(response) -> list[list[object]]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _number(value: object) -> int | None:
    text = str(value)
    return int(text) if text.isdigit() else None


def _first(rows, match, column: int) -> int | None:
    return next(_number(r[column]) for r in rows if r and match(r))


def _tumbes(rows) -> int | None:
    return _first(rows, lambda r: r[0] == TUMBES, 2)


def _girls(rows) -> int | None:
    return _first(rows, lambda r: (r[0], r[2], r[4]) == GIRLS, 6)


def _json_cell(doc, match) -> int | None:
    return next(r["count"] for r in doc["rows"] if match(r))


PAGE_ROW = re.compile(r"<td>Tumbes</td>\s*<td class=\"num\">([^<]*)</td>")
CHART_BAR = re.compile(r'aria-label="Tumbes: ([^"]*)"')


def _observe(statistician, client, cut: date) -> dict[str, int | None]:
    """What an attacker reads for Tumbes (and the GLOTIP girls cell) up to `cut`."""
    q = f"from={START.isoformat()}&to={cut.isoformat()}"
    victims = f"/api/v1/reports/victims?by=region&{q}"
    inei = f"/api/v1/reports/export/inei?{q}"
    glotip = f"/api/v1/reports/export/unodc_glotip?{q}"
    seen: dict[str, int | None] = {}
    doc = statistician.get(victims).json
    seen["victims.json"] = _json_cell(doc, lambda r: r["region"] == TUMBES)
    seen["victims.csv"] = _tumbes(_csv_rows(statistician.get(victims + "&format=csv")))
    seen["victims.xlsx"] = _tumbes(_xlsx_rows(statistician.get(victims + "&format=xlsx")))
    page = client.get(
        f"/reports/?unit=persons&by1=region&status=indicated&status=possible&{q}"
    ).get_data(as_text=True)
    seen["victims.page"] = _number(PAGE_ROW.search(page).group(1))
    seen["victims.chart"] = _number(CHART_BAR.search(page).group(1))
    table = statistician.get(inei).json["tables"][0]
    seen["inei.json"] = _json_cell(table, lambda r: r["region"] == TUMBES)
    seen["inei.csv"] = _tumbes(_csv_rows(statistician.get(inei + "&format=csv")))
    seen["inei.xlsx"] = _tumbes(_xlsx_rows(statistician.get(inei + "&format=xlsx")))
    table = statistician.get(glotip).json["tables"][0]
    seen["unodc_glotip.json"] = _json_cell(
        table, lambda r: (r["sex_age"], r["form"], r["citizenship"]) == GIRLS
    )
    seen["unodc_glotip.csv"] = _girls(_csv_rows(statistician.get(glotip + "&format=csv")))
    seen["unodc_glotip.xlsx"] = _girls(_xlsx_rows(statistician.get(glotip + "&format=xlsx")))
    seen["overlap.json"] = statistician.get(f"/api/v1/reports/overlap?{q}").json["total_persons"]
    return seen


def _attack(api, client, page_user) -> tuple[dict[date, dict[str, int | None]], dict]:  # noqa: F811
    _build(api)
    page_user("statistician")
    statistician = api("statistician", POLICE)
    observed = {cut: _observe(statistician, client, cut) for cut in _cuts()}
    derived: dict[str, list[int]] = {}
    for before, after in zip(_cuts(), _cuts()[1:], strict=False):
        for path, value in observed[after].items():
            earlier = observed[before][path]
            assert value is not None and earlier is not None, (path, before)
            derived.setdefault(path, []).append(value - earlier)
    return observed, derived


@pytest.mark.usefixtures("exact_counts")
def test_with_exact_counts_every_path_gives_the_person_away(api, client, page_user, k):  # noqa: F811
    """The attack itself, with perturbation off (Ruta before ADR 0016): every path and
    every day derives exactly the one person identified that day."""
    k(K)
    observed, derived = _attack(api, client, page_user)
    assert observed[FIRST_CUT]["victims.json"] == 14
    assert len(derived) == 12  # paths
    for path, values in derived.items():
        assert values == [1] * DAYS, path


def test_differencing_two_periods_reveals_nothing(api, client, page_user, k):  # noqa: F811
    """With cell-key perturbation (the default configuration) the differences are the
    true 1 plus the difference of two unrelated noises: the attacker cannot tell a 1
    from a 0, -1 or 3, while each figure stays repeatable, within +-2 and never small."""
    k(K)
    observed, derived = _attack(api, client, page_user)
    max_noise = recordkeys.max_noise()
    assert max_noise == cellkey.DEFAULT_MAX_NOISE == 2
    for path, values in derived.items():
        assert all(abs(v - 1) <= 2 * max_noise for v in values), (path, values)
        # 12 exact answers in a row would happen with probability ~0.26**12 (about 1e-7)
        assert values != [1] * DAYS, path
        assert len(set(values)) >= 2, (path, values)
    for cut, seen in observed.items():
        true_tumbes = 14 + (cut - FIRST_CUT).days
        # one set of persons, one cell key, one figure: in every format and every layout
        tumbes = {v for p, v in seen.items() if p.startswith(("victims", "inei"))}
        assert len(tumbes) == 1, (cut, seen)
        (shown,) = tumbes
        assert shown is not None and abs(shown - true_tumbes) <= max_noise
        assert shown >= K
        glotip = {v for p, v in seen.items() if p.startswith("unodc_glotip")}
        assert len(glotip) == 1, (cut, seen)


def test_the_published_figure_is_the_ptable_noise_of_the_persons_record_keys(api, k):
    """End to end: the SQL twin of the record key, summed per cell, gives the published
    figure (the same noise an independent computation from the facts gives)."""
    k(K)
    _build(api)
    statistician = api("statistician", POLICE)
    mix = cellkey.mixer(recordkeys.secret(), "person")
    for cut in (FIRST_CUT, FIRST_CUT + timedelta(days=5)):
        doc = statistician.get(f"/api/v1/reports/victims?by=region&from={START}&to={cut}").json
        persons = db.session.scalars(
            sa.select(ScreeningFact.person_id)
            .distinct()
            .where(ScreeningFact.region == TUMBES, ScreeningFact.identified_on <= cut)
        ).all()
        key = sum(cellkey.record_key(p, mix) for p in persons)
        expected = cellkey.perturb(len(persons), cellkey.cell_key(key), K, 2)
        assert _json_cell(doc, lambda r: r["region"] == TUMBES) == expected
        assert doc["perturbation"]["method"] == "cell_key"
        assert "suma de las filas" in doc["perturbation"]["note"]["es"]
        # repeating the query gives nothing new
        again = statistician.get(f"/api/v1/reports/victims?by=region&from={START}&to={cut}").json
        assert again["rows"] == doc["rows"] and again["total"] == doc["total"]


def test_sql_record_keys_match_the_python_twin(api):
    post(api("screener", POLICE), screening(region=TUMBES))
    post(api("screener", POLICE), screening(region="15"))
    for domain, column in (
        ("person", ScreeningFact.person_id),
        ("screening", ScreeningFact.screening_id),
    ):
        mix = cellkey.mixer(recordkeys.secret(), domain)
        rows = db.session.execute(
            sa.select(column, recordkeys.record_key_sql(column, domain))
        ).all()
        assert rows
        for unit_id, key in rows:
            assert int(key) == cellkey.record_key(unit_id, mix), (domain, unit_id)


def test_the_person_level_ctdc_layout_is_released_by_whole_years_only(api, k):
    """CTDC rows carry no noise: two releases one day apart would differ by exactly the
    new person's row (their gender, age band, citizenship, forms of exploitation). Only
    whole calendar years are released, so a period cannot end on 1 or 2 July."""
    k(3)
    _build(api)
    statistician = api("statistician", POLICE)
    for cut in (FIRST_CUT, FIRST_CUT + timedelta(days=1)):
        response = statistician.get(f"/api/v1/reports/export/ctdc?from={START}&to={cut}")
        assert response.status_code == 422, response.json
        assert "to" in response.json["error"]["fields"]
    response = statistician.get("/api/v1/reports/export/ctdc?from=2025-03-02&to=2025-12-31")
    assert response.status_code == 422 and "from" in response.json["error"]["fields"]
    whole = statistician.get("/api/v1/reports/export/ctdc?from=2025-01-01&to=2025-12-31")
    assert whole.status_code == 200
    assert whole.json["perturbation"]["method"] == "whole_calendar_years"
    assert statistician.get("/api/v1/reports/export/ctdc").status_code == 200  # no period
