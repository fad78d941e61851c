"""CSV, XLSX and JSON files of the report documents (reports.md §5).

- CSV: UTF-8 with a BOM and CRLF line ends (Excel opens it with the accents right).
- Every text cell is formula-injection safe: a value starting with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it
  as text instead of running it (OWASP "CSV injection"). XLSX cells get the same treatment
  and are stored explicitly as strings, never as formulas.
- A suppressed count is written as the text ``<k`` (e.g. ``<10``), or ``oculto`` when it
  is hidden only to protect another (complementary suppression), explained in the notes;
  it is never written as a number.
- Headers and labels are in Spanish whatever the interface language: the files go to
  Peruvian institutions (the JSON keeps the codes and both languages' labels).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Response
from flask_babel import force_locale

from caseapp.core import codes
from caseapp.reports import layouts
from caseapp.stats import disclosure

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Hidden:
    """A suppressed count: ``<k`` (primary), or ``oculto`` when a larger count (or a
    zero) is hidden only to protect another (complementary); never a number."""

    threshold: int
    complementary: bool = False

    def __str__(self) -> str:
        return HIDDEN_WORD if self.complementary else f"<{self.threshold}"


HIDDEN_WORD = "oculto"


def _hidden(cell: Mapping[str, Any], k: int) -> Hidden:
    return Hidden(k, cell.get("suppression") == disclosure.COMPLEMENTARY)


@dataclass(slots=True)
class Sheet:
    title: str
    headers: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)


def safe_text(value: str) -> str:
    """Neutralize spreadsheet formulas: a leading apostrophe makes the cell plain text."""
    if value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return safe_text(str(value))


def to_csv(sheets: Sequence[Sheet]) -> bytes:
    """One table per sheet, separated by a blank line; titles only when there are several."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    several = len(sheets) > 1
    for i, sheet in enumerate(sheets):
        if i:
            writer.writerow([])
        if several:
            writer.writerow([_csv_value(sheet.title)])
        writer.writerow([_csv_value(h) for h in sheet.headers])
        for row in sheet.rows:
            writer.writerow([_csv_value(v) for v in row])
        if sheet.notes:
            writer.writerow([])
            for note in sheet.notes:
                writer.writerow([_csv_value(note)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()[:31] or "Tabla"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f" ({n})"
        candidate = clean[: 31 - len(suffix)] + suffix
        n += 1
    used.add(candidate)
    return candidate


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one worksheet per table (header row first) and a notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    default = wb.active
    used: set[str] = set()
    notes: list[str] = []
    bold = Font(bold=True)
    right = Alignment(horizontal="right")
    for sheet in sheets:
        ws = wb.create_sheet(_sheet_title(sheet.title, used))
        ws.append([safe_text(h) for h in sheet.headers])
        for cell in ws[1]:
            cell.font = bold
        for row in sheet.rows:
            ws.append([None for _ in row])
            r = ws.max_row
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, Hidden):
                    cell.value = str(value)
                    cell.data_type = "s"
                    cell.alignment = right
                elif isinstance(value, bool):
                    cell.value = int(value)
                elif isinstance(value, int | float) or value is None:
                    cell.value = value
                else:
                    cell.value = safe_text(str(value))
                    cell.data_type = "s"  # never a formula, whatever the text
        ws.freeze_panes = "A2"
        for c, header in enumerate(sheet.headers, start=1):
            width = max(
                [
                    len(str(header)),
                    *(len(str(row[c - 1])) for row in sheet.rows if c - 1 < len(row)),
                ]
            )
            ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = min(
                max(width + 2, 8), 60
            )
        notes.extend(n for n in sheet.notes if n not in notes)
    wb.remove(default)
    ws = wb.create_sheet(_sheet_title("Notas", used))
    ws.append(["Notas"])
    ws["A1"].font = bold
    for note in notes:
        ws.append([safe_text(note)])
        ws.cell(row=ws.max_row, column=1).data_type = "s"
    ws.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# -- documents -> sheets ----------------------------------------------------------------------


def _count(cell: Mapping[str, Any], k: int, key: str = "count") -> Any:
    return _hidden(cell, k) if cell.get("suppressed") else cell.get(key)


def _dim_headers(dims: Mapping[str, layouts.Dim], names: Sequence[str]) -> list[str]:
    headers: list[str] = []
    for name in names:
        label = str(dims[name].label)
        headers += [f"{label} (código)", label]
    return headers


def _dim_values(
    dims: Mapping[str, layouts.Dim], names: Sequence[str], row: Mapping[str, Any]
) -> list[Any]:
    values: list[Any] = []
    for name in names:
        values += [row[name], dims[name].code_label(row[name], "es")]
    return values


def _common_notes(doc: Mapping[str, Any]) -> list[str]:
    k = doc["threshold"]
    filters = doc.get("filters", {})
    notes = [
        f"<{k}: cifra reservada: menos de {k}.",
        f"{HIDDEN_WORD}: cifra reservada (de {k} o más, o cero) para que otra reservada no "
        "pueda deducirse restando de los totales.",
        f"Periodo: desde {filters.get('from') or 'el inicio'} hasta "
        f"{filters.get('to') or 'hoy'} (fecha de Lima).",
    ]
    if filters.get("status"):
        notes.append(
            "Resultados de evaluación incluidos: "
            + ", ".join(
                layouts.VICTIM_DIMS["status"].code_label(s, "es") for s in filters["status"]
            )
        )
    scope = "todas las organizaciones" if doc.get("scope") == "all" else "su organización"
    notes.append(f"Cobertura: {scope}.")
    perturbation = doc.get("perturbation") or {}
    if perturbation.get("max_noise"):  # ADR 0016: both languages, the file travels
        notes += [perturbation["note"]["es"], perturbation["note"]["en"]]
    notes.append(f"Generado: {doc.get('generated_at', '')}; reglas: {doc.get('rule_version', '')}.")
    return notes


def _table_sheet(
    dims: Mapping[str, layouts.Dim], table: Mapping[str, Any], title: str, count_header: str, k: int
) -> Sheet:
    names = table["dimensions"]
    rows = [[*_dim_values(dims, names, r), _count(r, k)] for r in table["rows"]]
    rows.append(
        ["Total", *([""] * (2 * len(names) - 1)), _count(table["total"], k)]
        if names
        else ["Total", _count(table["total"], k)]
    )
    return Sheet(title, [*_dim_headers(dims, names), count_header], rows)


def victims_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    with force_locale("es"):
        k = doc["threshold"]
        unit = str(layouts.UNIT_LABELS[doc["unit"]])
        sheet = _table_sheet(layouts.VICTIM_DIMS, doc, f"Víctimas ({unit.lower()})", unit, k)
        sheet.notes = [
            f"Unidad: {unit}. {layouts.UNIT_DESCRIPTIONS[doc['unit']]}",
            *_common_notes(doc),
        ]
        if doc.get("multi_valued"):
            sheet.notes.append(
                "Finalidad es multivalor: una persona cuenta una vez en cada "
                "finalidad, así que las filas suman más que el total."
            )
    return [sheet]


def overlap_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    k = doc["threshold"]
    kinds = layouts.VICTIM_DIMS["org_kind"]
    rows: list[list[Any]] = [
        [
            "+".join(c["combination"]),
            " + ".join(kinds.code_label(x, "es") for x in c["combination"]),
            _hidden(c, k) if c["suppressed"] else c["persons"],
        ]
        for c in doc["cells"]
    ]
    rows.append(["Total", "Personas", _count(doc["totals"]["persons"], k)])
    rows.append(["Total", "Evaluaciones", _count(doc["totals"]["screenings"], k)])
    notes = [
        "Personas según la combinación de tipos de organización que las identificaron "
        "en el periodo (cada persona en una sola combinación).",
        *_common_notes(doc),
    ]
    return [
        Sheet(
            "Coincidencias entre registros",
            ["Combinación (códigos)", "Combinación", "Personas"],
            rows,
            notes,
        )
    ]


def referrals_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    k = doc["threshold"]
    with force_locale("es"):
        dims = layouts.REFERRAL_DIMS
        names = doc["dimensions"]
        rows = [
            [
                *_dim_values(dims, names, r),
                _count(r, k),
                _count(r["overdue"], k),
                r["median_hours_to_acceptance"],
            ]
            for r in doc["rows"]
        ]
        rows.append(
            [
                "Total",
                *([""] * (2 * len(names) - 1)),
                _count(doc["total"], k),
                _count(doc["overdue_total"], k),
                doc["median_hours_to_acceptance"],
            ]
        )
        main = Sheet(
            "Derivaciones",
            [
                *_dim_headers(dims, names),
                "Derivaciones",
                "Obligatorias vencidas",
                "Mediana de horas hasta la aceptación",
            ],
            rows,
        )
        declines = _table_sheet(
            layouts.OTHER_DIMS,
            {"dimensions": ["decline_reason"], **doc["decline_reasons"]},
            "Motivos de rechazo",
            "Derivaciones rechazadas",
            k,
        )
        main.notes = [
            "Obligatorias vencidas: derivaciones obligatorias listas o enviadas cuyo plazo "
            "ya pasó. La mediana se publica solo si la respaldan al menos "
            f"{k} derivaciones aceptadas.",
            *_common_notes(doc),
        ]
    return [main, declines]


def gaps_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    with force_locale("es"):
        sheet = _table_sheet(
            layouts.GAP_DIMS,
            doc,
            "Necesidades no cubiertas",
            "Registros de brecha",
            doc["threshold"],
        )
        sheet.notes = [
            "Cada registro es un servicio necesario que ninguna organización pudo "
            "prestar al momento de la derivación.",
            *_common_notes(doc),
        ]
    return [sheet]


def occupancy_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    k = doc["threshold"]
    region = layouts.VICTIM_DIMS["region"]
    types = codes.get("service_type")
    providers = Sheet(
        "Ocupación por servicio",
        [
            "Región (código)",
            "Región",
            "Código",
            "Organización",
            "Tipo de servicio",
            "Capacidad",
            "Plazas ocupadas",
        ],
        [
            [
                r["region"],
                region.code_label(r["region"], "es"),
                r["provider"],
                r["provider_name"],
                types.label(r["service_type"], "es")
                if r["service_type"] in types
                else r["service_type"],
                r["capacity"],
                _count(r, k, "occupied"),
            ]
            for r in doc["rows"]
        ],
    )
    providers.rows.append(["Total", "", "", "", "", doc["capacity_total"], _count(doc["total"], k)])
    regions = Sheet(
        "Ocupación por región",
        ["Región (código)", "Región", "Capacidad", "Plazas ocupadas"],
        [
            [r["region"], region.code_label(r["region"], "es"), r["capacity"], _count(r, k)]
            for r in doc["regions"]
        ],
    )
    series = Sheet(
        "Ocupación mensual",
        ["Mes", "Personas acogidas al cierre del mes"],
        [[p["month"], _count(p, k)] for p in doc["series"]],
    )
    providers.notes = [
        f"Las plazas ocupadas por menos de {k} personas se reservan: en un "
        "albergue pequeño identificarían a las personas acogidas.",
        *_common_notes(doc),
    ]
    return [providers, regions, series]


def layout_sheets(doc: Mapping[str, Any]) -> list[Sheet]:
    k = doc["threshold"]
    if doc["layout"] == "ctdc":
        notes = [
            "Una fila por persona, anonimizada: cada combinación de "
            f"{', '.join(doc['quasi_identifiers'])} aparece al menos {k} veces (k-anonimato).",
            "Generalizaciones aplicadas: "
            + (", ".join(doc["coarsenings_applied"]) or "ninguna")
            + f". Filas descartadas: {doc['dropped']}. Vacío = sin dato.",
            *_common_notes(doc),
        ]
        return [
            Sheet(
                "CTDC",
                list(doc["columns"]),
                [[r[c] for c in doc["columns"]] for r in doc["rows"]],
                notes,
            )
        ]
    dims = layouts.GLOTIP_DIMS if doc["layout"] == "unodc_glotip" else layouts.INEI_DIMS
    sheets = []
    with force_locale("es"):
        for table in doc["tables"]:
            title = table["title"] if doc["layout"] == "inei" else "Víctimas detectadas (GLOTIP)"
            sheet = _table_sheet(dims, table, title, "Personas", k)
            if table.get("multi_valued"):
                sheet.notes.append(
                    "Finalidad es multivalor: una persona cuenta una vez en cada "
                    "finalidad, así que las filas suman más que el total."
                )
            sheets.append(sheet)
        sheets[0].notes.extend(
            [f"Unidad: personas. {layouts.UNIT_DESCRIPTIONS['persons']}", *_common_notes(doc)]
        )
    return sheets


SHEETS: dict[str, Callable[[Mapping[str, Any]], list[Sheet]]] = {
    "victims": victims_sheets,
    "overlap": overlap_sheets,
    "referrals": referrals_sheets,
    "gaps": gaps_sheets,
    "occupancy": occupancy_sheets,
    "layout": layout_sheets,
}


def file_response(doc: Mapping[str, Any], kind: str, fmt: str, basename: str) -> Response:
    """The document as a download in `fmt` (json, csv or xlsx)."""
    if fmt == "json":
        body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        mimetype, ext = "application/json", "json"
    elif fmt == "csv":
        body, mimetype, ext = to_csv(SHEETS[kind](doc)), "text/csv; charset=utf-8", "csv"
    else:
        body, mimetype, ext = to_xlsx(SHEETS[kind](doc)), XLSX_MIMETYPE, "xlsx"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{basename}.{ext}"'
    return response
