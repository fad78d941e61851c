"""CSV/XLSX writers (reports.md §5): formula-injection safety, BOM, suppressed cells."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from caseapp.reports.exports import Hidden, Sheet, safe_text, to_csv, to_xlsx

INJECTION = [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+1+1", "'+1+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tcmd", "'\tcmd"),
    ("\rcmd", "'\rcmd"),
    ("Lima Metropolitana", "Lima Metropolitana"),
    ("a=b", "a=b"),
    ("", ""),
]


@pytest.mark.parametrize(("raw", "safe"), INJECTION)
def test_cells_that_a_spreadsheet_would_run_get_an_apostrophe(raw, safe):
    assert safe_text(raw) == safe


def sheet() -> Sheet:
    return Sheet(
        "Víctimas",
        ["Región (código)", "Región", "Personas"],
        [
            ["17", "Madre de Dios", 12],
            ["=cmd|' /C calc'!A0", "-evil", Hidden(10)],
            ["Total", "", 40],
        ],
        ["<10: cifra reservada."],
    )


def test_csv_has_a_bom_crlf_and_neutralized_formulas():
    data = to_csv([sheet()])
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["Región (código)", "Región", "Personas"]
    assert rows[1] == ["17", "Madre de Dios", "12"]
    assert rows[2] == ["'=cmd|' /C calc'!A0", "'-evil", "<10"]
    assert rows[3] == ["Total", "", "40"]
    assert ["<10: cifra reservada."] in rows


def test_csv_with_several_tables_titles_each():
    other = Sheet("Por sexo", ["Sexo", "Personas"], [["F", 12]])
    rows = list(csv.reader(io.StringIO(to_csv([sheet(), other]).decode("utf-8-sig"))))
    assert rows[0] == ["Víctimas"]
    assert ["Por sexo"] in rows
    assert rows[rows.index(["Por sexo"]) + 1] == ["Sexo", "Personas"]


def test_xlsx_stores_text_as_text_and_suppressed_cells_as_a_marker():
    wb = load_workbook(io.BytesIO(to_xlsx([sheet()])))
    assert wb.sheetnames == ["Víctimas", "Notas"]
    ws = wb["Víctimas"]
    assert [c.value for c in ws[1]] == ["Región (código)", "Región", "Personas"]
    assert ws["C2"].value == 12 and ws["C2"].data_type == "n"
    assert ws["A3"].value == "'=cmd|' /C calc'!A0"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert ws["C3"].value == "<10" and ws["C3"].data_type == "s"
    assert ws.freeze_panes == "A2"
    assert wb["Notas"]["A2"].value == "<10: cifra reservada."


def test_xlsx_sheet_titles_are_valid_and_unique():
    long = Sheet("Por departamento: Lima [Metropolitana] / Región", ["a"], [[1]])
    wb = load_workbook(io.BytesIO(to_xlsx([long, long])))
    titles = wb.sheetnames[:2]
    assert len(set(titles)) == 2
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles)


def test_hidden_is_never_a_number():
    assert str(Hidden(10)) == "<10"
    assert not isinstance(Hidden(10), int)
