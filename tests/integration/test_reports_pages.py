"""Report pages (/reports/…): forms, tables, SVG charts with suppression, downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest

from caseapp.extensions import db
from tests.conftest import csrf_from
from tests.integration.test_reports_api import (
    POLICE,
    PROSECUTOR,
    _suppression_data,
    post,
    screening,
)


@pytest.fixture
def page_user(login_as):
    """Sign in through the login page; roles that must enrol two-factor sign-in are marked
    as enrolled so the guard lets them through (2FA itself is tested elsewhere)."""

    def _login(role: str = "screener", org: str = POLICE) -> dict:
        user = login_as(role, org)
        from caseapp.accounts.models import User
        from caseapp.core.db import utcnow

        row = db.session.get(User, user["id"])
        if hasattr(row, "totp_enabled_at"):
            row.totp_secret = "JBSWY3DPEHPK3PXP"
            row.totp_enabled_at = utcnow()
            db.session.commit()
        return user

    return _login


NUM_CELL = re.compile(r'<td class="num">(.*?)</td>', re.S)
CHART_VALUE = re.compile(r'class="chart-value">([^<]*)</text>')


def numbers_in(fragments) -> list[int]:
    out = []
    for fragment in fragments:
        text = re.sub(r"<[^>]+>", " ", fragment)
        out += [int(n.replace("\u00a0", "")) for n in re.findall(r"\d[\d ]*", text) if n.strip()]
    return out


def assert_csp_clean(html: str) -> None:
    assert "<script" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


def test_index_shows_a_form_a_table_and_a_chart(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening())
    page_user("screener")
    response = client.get("/reports/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="by1"' in html and 'name="unit"' in html and 'name="from"' in html
    assert "Madre de Dios" in html  # default breakdown by region, Spanish labels
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" role="img"' in html
    assert '<title id="victims-chart-title">' in html and '<desc id="victims-chart-desc">' in html
    assert "Cobertura: solo su organización." in html
    assert "/reports/download/victims?" in html and "format=xlsx" in html
    assert_csp_clean(html)


def test_month_series_is_a_line_chart(client, api, page_user, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening(at="2026-01-10T10:00:00-05:00"))
    post(police, screening(at="2026-03-10T10:00:00-05:00"))
    page_user("screener")
    html = client.get(
        "/reports/?unit=screenings&by1=month&status=indicated&status=possible"
    ).get_data(as_text=True)
    assert "chart-line" in html and "<polyline" in html
    assert ">2026-02<" in html  # an empty month is drawn as a published zero
    assert 'aria-label="2026-02: 0"' in html


def test_suppressed_cells_in_table_and_chart(client, api, page_user, k):
    k(3)
    _suppression_data(api)
    page_user("statistician")
    response = client.get("/reports/?unit=persons&by1=sex&status=indicated&status=possible")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cobertura: todas las organizaciones" in html
    cells = NUM_CELL.findall(html)
    assert "&lt;&nbsp;3" in "".join(cells)
    assert all(not 1 <= n < 3 for n in numbers_in(cells))
    # F (5) and the total (10) carry cell-key noise (ADR 0016), the note says so
    published = numbers_in(cells)
    assert any(3 <= n <= 7 for n in published) and any(8 <= n <= 12 for n in published)
    assert "perturbación controlada" in html
    assert html.count('class="chart-bar-suppressed"') == 2  # M and unknown, hatched
    assert "suprimido" in html
    assert all(not 1 <= n < 3 for n in numbers_in(CHART_VALUE.findall(html)))
    # a hidden bar never has a width that encodes its value
    for rect in re.findall(r'<rect [^>]*class="chart-bar-suppressed"/>', html):
        assert 'width="420"' in rect


def test_grouped_bars_for_two_dimensions(client, api, page_user, k):
    k(1)
    police = api("screener", POLICE)
    post(police, screening())
    post(police, screening(sex="M", age=30))
    page_user("screener")
    html = client.get("/reports/?by1=age_group&by2=sex&status=indicated").get_data(as_text=True)
    assert html.count('class="chart-group"') == 2


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-03-01&to=2026-02-01",
        "by1=sex&by2=sex",
        "from=not-a-date",
        "unit=cases",
        "by1=organization",
        "by1=sex&status=",
    ],
)
def test_bad_choices_are_422_with_an_error_summary(client, page_user, query):
    page_user("screener")
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert "report-result" not in html


def test_downloads_work_with_the_session(client, api, page_user, k):
    k(3)
    _suppression_data(api)
    page_user("screener")
    response = client.get("/reports/download/victims?by=sex&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    xlsx = client.get("/reports/download/victims?by=sex&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    as_json = client.get("/reports/download/victims?by=sex&format=json")
    # F and Total carry cell-key noise (ADR 0016): the CSV shows the JSON's figures
    total = as_json.json["total"]["count"]
    f_count = next(r["count"] for r in as_json.json["rows"] if r["sex"] == "F")
    assert as_json.status_code == 200 and 8 <= total <= 12 and 3 <= f_count <= 7
    assert {r[0]: r[2] for r in rows[1:5]} == {
        "F": str(f_count),
        "M": "<3",
        "unknown": "oculto",
        "Total": str(total),
    }
    assert as_json.headers["Content-Disposition"] == 'attachment; filename="ruta-victimas.json"'
    for report in ("overlap", "referrals", "gaps", "occupancy"):
        assert client.get(f"/reports/download/{report}?format=csv").status_code == 200
    assert client.get("/reports/download/victims?by=nope").status_code == 422
    assert client.get("/reports/download/persons").status_code == 404


def test_overlap_page_draws_an_upset_chart(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening("71234567"))
    post(api("screener", PROSECUTOR), screening("71234567", at="2026-03-20T10:00:00-05:00"))
    page_user("statistician")
    response = client.get("/reports/overlap")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "chart-upset" in html
    assert html.count('class="upset-dot-on"') == 2
    assert "Policía Nacional (PNP) + Ministerio Público (Fiscalía)" in html
    assert_csp_clean(html)


def test_other_report_pages(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening(sex="M", age=35))
    page_user("supervisor")
    referrals = client.get("/reports/referrals")
    assert referrals.status_code == 200
    assert "Obligatorias vencidas" in referrals.get_data(as_text=True)
    gaps = client.get("/reports/gaps?by1=gap&by2=profile")
    html = gaps.get_data(as_text=True)
    assert gaps.status_code == 200 and "Hombres adultos" in html
    assert client.get("/reports/gaps?by1=").status_code == 422
    occupancy = client.get("/reports/occupancy")
    assert occupancy.status_code == 200
    assert "chart-line" in occupancy.get_data(as_text=True)
    for url in ("/reports/referrals", "/reports/gaps", "/reports/occupancy"):
        assert_csp_clean(client.get(url).get_data(as_text=True))


def test_exports_page_offers_ctdc_only_to_statisticians(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening())
    page_user("screener")
    html = client.get("/reports/exports").get_data(as_text=True)
    assert "/reports/exports/unodc_glotip?" in html and "/reports/exports/inei?" in html
    assert "/reports/exports/ctdc?" not in html
    assert client.get("/reports/exports/ctdc?format=csv").status_code == 403
    inei = client.get("/reports/exports/inei?format=xlsx")
    assert inei.status_code == 200 and inei.data[:2] == b"PK"


def test_statistician_downloads_ctdc(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening())
    page_user("statistician")
    html = client.get("/reports/exports").get_data(as_text=True)
    assert "/reports/exports/ctdc?" in html
    response = client.get("/reports/exports/ctdc?format=csv")
    assert response.status_code == 200
    assert response.data.decode("utf-8-sig").startswith("yearOfRegistration,")
    assert client.get("/reports/exports/unknown").status_code == 404


def test_nav_links_to_statistics(client, page_user):
    page_user("screener")
    html = client.get("/").get_data(as_text=True)
    assert 'href="/reports/"' in html


def test_a_shared_link_without_status_uses_the_default(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening())
    page_user("screener")
    response = client.get("/reports/?by1=sex")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (
        'value="indicated" checked' in html
        or 'checked value="indicated"' in html
        or re.search(
            r'<input[^>]*checked[^>]*value="indicated"|<input[^>]*value="indicated"'
            r"[^>]*checked",
            html,
        )
    )
    assert "Femenino" in html


def test_english_pages_use_english_labels(client, api, page_user, k):
    k(1)
    post(api("screener", POLICE), screening())
    page_user("screener")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/lang", data={"lang": "en", "next": "/reports/", "csrf_token": token})
    html = client.get("/reports/?by1=sex&by2=unodc_category").get_data(as_text=True)
    assert "Female" in html and "Girl" in html
    assert "Femenino" not in html
