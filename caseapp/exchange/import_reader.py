"""HTCDS 2.0 files as a format of the register import (``flask import run FILE --profile
htcds --org CODE``; profile ``config/import/htcds.toml``).

The reader checks the file's shape (:mod:`caseapp.exchange.htcds_schema`), turns each case
into its screening request exactly as ``flask exchange import-htcds`` does (the ``ruta``
extension, else the crosswalks) and hands the import framework one row per case whose
columns are the request's field paths (``person.sex``, ``acts``…), so the profile maps
each column to the field of the same name and the framework validates, deduplicates by
``CaseId``, records provenance and writes as for any register.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from caseapp.core.errors import ValidationFailed
from caseapp.core.time import LIMA
from caseapp.exchange import htcds_import, htcds_schema
from caseapp.imports import readers, rules

FORMAT = "htcds"
SOURCE_ID = "CaseId"
#: every column the reader writes: the screening request's fields the import maps
COLUMNS = (SOURCE_ID, *rules.FIELD_KINDS)
MAX_LISTED = 5


def _problem_text(problems: list[tuple[str, str]]) -> str:
    shown = "; ".join(f"{path}: {message}" for path, message in problems[:MAX_LISTED])
    more = len(problems) - MAX_LISTED
    return shown + (
        f"; and {more} more (flask exchange import-htcds FILE --org CODE --dry-run lists all)"
        if more > 0
        else ""
    )


def _flat(payload: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in payload.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, f"{path}.")
        else:
            yield path, value


def _cell(path: str, value: Any) -> Any:
    """A request value as the import framework reads a cell of that field's kind."""
    if value is None:
        return None
    kind = rules.FIELD_KINDS.get(path)
    if kind == "list" and isinstance(value, list):
        return ";".join(str(v) for v in value)
    if kind == "bool" and isinstance(value, bool):
        return "true" if value else "false"
    if kind == "datetime" and isinstance(value, str):
        try:
            # Lima wall-clock time: the framework reads a spreadsheet's dates as Lima time
            return datetime.fromisoformat(value).astimezone(LIMA).replace(tzinfo=None)
        except ValueError:
            return value  # reported by the framework as "not a date"
    if kind == "date" and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def read_htcds(data: bytes, profile: rules.Profile) -> readers.Table:
    try:
        document = htcds_import.read_file(data)
    except ValidationFailed as exc:
        raise readers.ReadError("; ".join(m for ms in exc.fields.values() for m in ms)) from None
    problems = list(htcds_schema.problems(document))
    if problems:
        raise readers.ReadError(f"not an HTCDS 2.0 file: {_problem_text(problems)}")
    rows: list[tuple[int, dict[str, Any]]] = []
    for i, case in enumerate(document["cases"]):
        payload, found = htcds_import.request_of(case, f"cases[{i}]")
        problems.extend(found)
        cells: dict[str, Any] = {SOURCE_ID: case[SOURCE_ID]}
        for path, value in _flat(payload):
            if path in rules.FIELD_KINDS:
                cells[path] = _cell(path, value)
            elif value not in (None, "", [], {}):
                # a field the register import does not fill: never dropped silently
                problems.append((f"cases[{i}].ruta.screening.{path}", "not importable"))
        rows.append((i + 1, cells))
    if problems:
        raise readers.ReadError(f"HTCDS cases that cannot be read: {_problem_text(problems)}")
    return readers.Table(list(COLUMNS), iter(rows), len(rows))


readers.register(FORMAT, read_htcds)
