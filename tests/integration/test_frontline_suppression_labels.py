"""Issue 14 item 2: a cell hidden only to protect another says "oculto"/"hidden", never "< k".

Data (k=3): F=5, M=1 (primary: 1..k-1), unknown=4 (complementary: hidden so M cannot be
recovered as total minus F)."""

from __future__ import annotations

import csv
import io
import re
from io import BytesIO

from openpyxl import load_workbook

from tests.integration.test_reports_api import _suppression_data
from tests.integration.test_reports_pages import page_user  # noqa: F401  (fixture)

ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)


def _row(html: str, label: str) -> str:
    return next(r for r in ROW.findall(html) if f">{label}<" in r)


def test_json_says_why_a_cell_is_suppressed(api, k):
    k(3)
    doc = _suppression_data(api).get("/api/v1/reports/victims?by=sex").json
    rows = {r["sex"]: r for r in doc["rows"]}
    assert rows["M"]["suppressed"] and rows["M"]["suppression"] == "primary"
    assert rows["unknown"]["suppressed"] and rows["unknown"]["suppression"] == "complementary"
    assert rows["unknown"]["count"] is None
    assert "suppression" not in rows["F"] and rows["F"]["suppressed"] is False


def test_page_and_chart_label_complementary_cells_hidden(client, api, page_user, k):  # noqa: F811
    k(3)
    _suppression_data(api)
    page_user("statistician")
    html = client.get("/reports/?by1=sex").get_data(as_text=True)
    male, unknown = _row(html, "Masculino"), _row(html, "No se sabe")
    assert "&lt;&nbsp;3" in male and "oculto" not in male
    assert "oculto" in unknown and "&lt;" not in unknown
    assert re.search(r'aria-label="Masculino: suprimido \(menos de 3\)"', html)
    assert re.search(r'aria-label="No se sabe: oculto \(protege otra cifra\)"', html)
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get("/reports/?by1=sex").get_data(as_text=True)
    assert "hidden" in _row(english, "Unknown")
    assert "&lt;&nbsp;3" in _row(english, "Male")


def test_csv_and_xlsx_label_complementary_cells_hidden(client, api, page_user, k):  # noqa: F811
    k(3)
    _suppression_data(api)
    page_user("statistician")
    data = client.get("/reports/download/victims?by=sex&format=csv").data.decode("utf-8-sig")
    rows = {r[0]: r[2] for r in csv.reader(io.StringIO(data)) if len(r) > 2}
    assert rows["M"] == "<3" and rows["unknown"] == "oculto"
    assert any(r and r[0].startswith("oculto:") for r in csv.reader(io.StringIO(data)))
    book = load_workbook(BytesIO(client.get("/reports/download/victims?by=sex&format=xlsx").data))
    sheet = book.worksheets[0]
    values = {r[0]: r[2] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["M"] == "<3" and values["unknown"] == "oculto"
