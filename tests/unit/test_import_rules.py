"""Mapping profiles and rows (caseapp/imports/rules.py) and the readers, without a database."""

from __future__ import annotations

import tomllib
from datetime import date, datetime
from typing import Any

import pytest

from caseapp.imports import readers, rules
from caseapp.imports.profiles import DEFAULT_DIR
from caseapp.screening.schema import ScreeningRequest

TODAY = date(2026, 6, 1)

PROFILE = """
title = "test"
format = "csv"
delimiter = ";"
register = "T"
list = "ngo"
source_id = "id"
date_formats = ["%d/%m/%Y"]
[defaults]
acts = ["recruitment"]
"person.document.type" = "dni"
[columns]
"fecha" = "identified_at"
"region" = { field = "region", map = "@region" }
"sexo" = { field = "person.sex", map = "sexo" }
"edad" = { field = "person.age_years", required = false }
"nacido" = { field = "person.date_of_birth", required = false }
"fines" = { field = "purposes", map = "@purpose" }
"dni" = { field = "person.document.number", required = false }
"menor" = { field = "person.unaccompanied", map = "@bool", required = false }
[maps.sexo]
"Mujer" = "F"
"Hombre" = "M"
"""


def profile(text: str = PROFILE) -> rules.Profile:
    return rules.load_profile("t", tomllib.loads(text))


def mapped(**cells: Any) -> rules.MappedRow:
    p = profile()
    base = {
        "id": "A1",
        "fecha": "01/02/2020",
        "region": "Cusco",
        "sexo": "Mujer",
        "fines": "Explotación sexual",
    }
    base.update(cells)
    headers = {rules.normalized(h): h for h in base}
    return rules.map_row(p, 2, base, headers=headers, today=TODAY)


def test_every_field_a_profile_may_fill_is_a_field_of_the_screening_request() -> None:
    def walk(model: Any, prefix: str = "") -> set[str]:
        out = set()
        for name, info in model.model_fields.items():
            inner = info.annotation
            args = getattr(inner, "__args__", ())
            nested = next((a for a in (inner, *args) if hasattr(a, "model_fields")), None)
            if nested is not None:
                out |= walk(nested, f"{prefix}{name}.")
            else:
                out.add(f"{prefix}{name}")
        return out

    assert set(rules.FIELD_KINDS) <= walk(ScreeningRequest)


@pytest.mark.parametrize(
    ("cells", "path", "expected"),
    [
        ({}, "identified_at", "2020-02-01T00:00:00-05:00"),
        ({}, "region", "08"),
        ({"region": "CUSCO"}, "region", "08"),  # case and accents do not matter
        ({"region": "cusco "}, "region", "08"),
        ({"sexo": "HOMBRE"}, "person.sex", "M"),
        ({"edad": 16.0}, "person.age_years", 16),  # a spreadsheet number
        ({"edad": " 17 "}, "person.age_years", 17),
        ({"nacido": "03/04/2001"}, "person.date_of_birth", "2001-04-03"),
        ({"nacido": datetime(2001, 4, 3)}, "person.date_of_birth", "2001-04-03"),
        (
            {"fines": "Explotación sexual;Mendicidad"},
            "purposes",
            ["sexual_exploitation", "begging"],
        ),
        ({"fines": "explotacion sexual; explotación sexual"}, "purposes", ["sexual_exploitation"]),
        ({"dni": 71234567.0}, "person.document", {"type": "dni", "number": "71234567"}),
        ({"menor": "Sí"}, "person.unaccompanied", True),
        ({"menor": "no"}, "person.unaccompanied", False),
        ({}, "acts", ["recruitment"]),  # a default
    ],
)
def test_a_row_becomes_the_request(cells: dict[str, Any], path: str, expected: Any) -> None:
    row = mapped(**cells)
    assert row.problems == []
    value: Any = row.payload
    for part in path.split("."):
        value = value[part]
    assert value == expected


def test_a_default_document_type_without_a_number_is_no_document() -> None:
    assert "document" not in mapped().payload["person"]


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"sexo": "Otro"}, "sexo", "unknown value (map sexo: hombre, mujer)"),
        ({"fines": "Explotación minera"}, "fines", "unknown value (map @purpose"),
        ({"fecha": "2020-02-01"}, "fecha", "not a date (dd/mm/yyyy)"),
        ({"fecha": "01/02/2099"}, "fecha", "date in the future (today is 2026-06-01)"),
        ({"nacido": "02/06/2026"}, "nacido", "date in the future"),
        ({"edad": "diez"}, "edad", "not a whole number"),
        ({"menor": "quizás"}, "menor", "not a yes/no value"),
        ({"id": ""}, "id", "source record id is missing"),
    ],
)
def test_each_bad_cell_is_named(cells: dict[str, Any], column: str, message: str) -> None:
    problems = mapped(**cells).problems
    assert [(p.line, p.column) for p in problems] == [(2, column)]
    assert problems[0].message.startswith(message)


def test_contract_errors_map_back_to_columns() -> None:
    p = profile()
    row = mapped(edad=130)
    found = rules.contract_problems(
        p,
        row,
        {
            "person.age_years": ["must be at most 120"],
            "purposes[0]": ["unknown code"],
            "means": ["required"],
        },
    )
    assert [(x.column, x.value) for x in found] == [
        ("edad", "130"),
        ("fines", "Explotación sexual"),
        ("(means)", ""),
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ('list = "ngo"', 'list = "hackers"'),
        ('"fecha" = "identified_at"', '"fecha" = "person.favourite_colour"'),
        ('map = "sexo"', 'map = "nope"'),
        ('format = "csv"', 'format = "pdf"'),
        ('source_id = "id"', 'source_id = ""'),
    ],
)
def test_a_bad_profile_names_its_mistake(change: str, problem: str) -> None:
    with pytest.raises(rules.ProfileError) as caught:
        profile(PROFILE.replace(change, problem))
    assert len(caught.value.problems) == 1


def test_the_shipped_profiles_are_valid() -> None:
    import caseapp.exchange.import_reader  # noqa: F401  (format "htcds", added by exchange)

    names = sorted(p.stem for p in DEFAULT_DIR.glob("*.toml"))
    assert {"police-register", "prosecutor-register", "ngo-spreadsheet"} <= set(names)
    for name in names:
        text = (DEFAULT_DIR / f"{name}.toml").read_text(encoding="utf-8")
        rules.load_profile(name, tomllib.loads(text))


def test_header_problems_name_every_missing_column() -> None:
    problems = rules.header_problems(profile(), ["ID", "Fecha", "region"])
    assert [p.column for p in problems] == ["sexo", "fines"]


# -- readers -----------------------------------------------------------------------------------


def test_csv_reader_lines_are_file_lines_and_a_bom_is_fine() -> None:
    data = "\ufeffid;fecha\nA;01/01/2020\n\nB;02/01/2020\n".encode()
    table = readers.read(data, profile())
    assert table.header == ["id", "fecha"]
    assert [(line, cells["id"]) for line, cells in table.rows] == [(2, "A"), (4, "B")]


def test_csv_in_another_encoding_is_a_clear_error() -> None:
    data = "id;región\nA;Ñuñoa\n".encode("cp1252")
    with pytest.raises(readers.ReadError) as caught:
        readers.read(data, profile())
    assert "not utf-8" in str(caught.value) and "cp1252" in str(caught.value)
    assert caught.value.line == 1


def test_a_reader_plugs_in_for_a_new_format() -> None:
    def tsv(data: bytes, p: rules.Profile) -> readers.Table:
        lines = data.decode().splitlines()
        header = lines[0].split("\t")
        return readers.Table(
            header,
            (
                (i + 2, dict(zip(header, v.split("\t"), strict=True)))
                for i, v in enumerate(lines[1:])
            ),
            len(lines) - 1,
        )

    readers.register("tsv-test", tsv)
    p = profile(PROFILE.replace('format = "csv"', 'format = "tsv-test"'))
    table = readers.read(b"id\tfecha\nA\t01/01/2020\n", p)
    assert [c["id"] for _, c in table.rows] == ["A"]


def _workbook(tmp_path: Any, write_only: bool) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("Hoja") if write_only else book.active
    rows = [
        ["id", "fecha", "n", "x", "ok", "texto"],
        ["A", datetime(2020, 2, 1), 16, 2.5, True, "Explotación sexual"],
        [None, None, None, None, None, None],
        ["B", date(1999, 12, 31), 71234567, -1e-3, False, "  con espacios  "],
        ["C", "01/02/2020", None, 0, None, "=not a formula"],
    ]
    for row in rows:
        sheet.append(row)
    path = tmp_path / f"w{write_only}.xlsx"
    book.save(path)
    return path.read_bytes()


@pytest.mark.parametrize("write_only", [True, False])  # inline strings / shared strings
def test_the_fast_xlsx_rows_are_openpyxls_values(tmp_path: Any, write_only: bool) -> None:
    import io as _io

    from openpyxl import load_workbook

    data = _workbook(tmp_path, write_only)
    book = load_workbook(_io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]

    def padded(rows: Any) -> list[tuple[Any, ...]]:  # an empty row may come as ()
        return [tuple(list(r) + [None] * (6 - len(r))) for r in rows]

    expected = padded(sheet.iter_rows(values_only=True))
    fast = readers._fast_values(book, sheet)
    assert fast is not None
    assert padded(fast) == expected
    assert expected[1][1] == datetime(2020, 2, 1) and expected[3][2] == 71234567


def test_the_fast_xlsx_rows_read_a_sheet_with_prefixed_element_names() -> None:
    """Some producers write ``<x:row><x:c>`` with a namespace prefix: the local names
    count; a row the file leaves out is an empty row."""
    import io as _io
    import zipfile

    xml = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c>'
        '<x:c r="B1"><x:v>42</x:v></x:c></x:row>'
        '<x:row r="3"><x:c r="C3" t="inlineStr"><x:is><x:t>hola</x:t></x:is></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    buffer = _io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(buffer) as archive:
        rows = list(
            readers._expat_rows(archive, "xl/worksheets/sheet1.xml", ["uno"], frozenset(), None)
        )
    assert rows == [("uno", 42), (), (None, None, "hola")]
