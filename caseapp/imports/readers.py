"""Reading a register file into rows: CSV (with its encoding checked), XLSX (streamed,
never loaded whole) and JSON. Another format plugs in with :func:`register`.

A reader gets the file's bytes and the profile and returns a :class:`Table`: the header,
an iterator of ``(line, {header: cell})`` and, when it is cheap to know, the number of
rows (for the progress bar). A file that cannot be read at all raises :class:`ReadError`
with a message a person can act on.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from caseapp.imports import rules
from caseapp.imports.rules import Profile

Row = tuple[int, dict[str, Any]]


class ReadError(ValueError):
    """The file cannot be read with this profile (wrong encoding, not a spreadsheet…)."""

    def __init__(self, message: str, line: int = 0) -> None:
        self.line = line
        super().__init__(message)


@dataclass
class Table:
    header: list[str]
    rows: Iterator[Row]
    total: int | None = None


Reader = Callable[[bytes, Profile], Table]
_READERS: dict[str, Reader] = {}


def register(fmt: str, reader: Reader) -> None:
    """Add (or replace) the reader of a format; profiles may then say ``format = fmt``."""
    _READERS[fmt] = reader
    rules.allow_format(fmt)


def read(data: bytes, profile: Profile) -> Table:
    reader = _READERS.get(profile.format)
    if reader is None:
        raise ReadError(f"no reader for format {profile.format!r}")
    return reader(data, profile)


def formats() -> tuple[str, ...]:
    return tuple(_READERS)


# -- CSV ----------------------------------------------------------------------------------------

_SUGGEST = ("utf-8", "cp1252", "latin-1")


def _decode(data: bytes, encoding: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        likely = next((e for e in _SUGGEST if e != encoding and _decodes(data, e)), None)
        hint = (
            f"; it reads as {likely} (Excel on Windows saves 'CSV' as cp1252) — save it "
            "as 'CSV UTF-8' or set encoding in the profile"
            if likely
            else ""
        )
        raise ReadError(
            f"the file is not {encoding}: byte {data[exc.start]:#04x} on line {line} "
            f"cannot be read{hint}",
            line,
        ) from None
    except LookupError:
        raise ReadError(f"unknown encoding {encoding!r} in the profile") from None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return False
    # latin-1 decodes anything: only suggest it when the result has no control characters
    return not any(0x80 <= ord(ch) < 0xA0 for ch in text)


def read_csv(data: bytes, profile: Profile) -> Table:
    text = _decode(data, profile.encoding)
    lines = iter(csv.reader(io.StringIO(text, newline=""), delimiter=profile.delimiter))
    header: list[str] = []
    try:
        for _ in range(profile.header_row):
            header = next(lines)
    except StopIteration:
        raise ReadError("the file is empty (no header row)") from None
    except csv.Error as exc:
        raise ReadError(f"not a CSV file: {exc}") from None
    header = [h.strip() for h in header]
    total = max(text.count("\n") - profile.header_row + (0 if text.endswith("\n") else 1), 0)

    def rows() -> Iterator[Row]:
        line = profile.header_row
        try:
            for values in lines:
                line += 1
                if not any(v.strip() for v in values):
                    continue
                yield line, dict(zip(header, values, strict=False))
        except csv.Error as exc:
            raise ReadError(f"line {line + 1}: {exc}", line + 1) from None

    return Table(header, rows(), total)


# -- XLSX ---------------------------------------------------------------------------------------


def read_xlsx(data: bytes, profile: Profile) -> Table:
    """Rows streamed by openpyxl's read-only mode: memory stays flat for any file size."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ReadError(f"not an XLSX workbook ({type(exc).__name__})") from None
    if profile.sheet:
        if profile.sheet not in book.sheetnames:
            raise ReadError(
                f"no sheet named {profile.sheet!r} (sheets: {', '.join(book.sheetnames)})"
            )
        sheet = book[profile.sheet]
    else:
        sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    header: list[str] = []
    try:
        for _ in range(profile.header_row):
            header = [rules.cell_text(v) for v in next(values)]
    except StopIteration:
        raise ReadError("the sheet is empty (no header row)") from None
    declared = getattr(sheet, "max_row", None)
    total = declared - profile.header_row if isinstance(declared, int) else None

    def rows() -> Iterator[Row]:
        line = profile.header_row
        for cells in values:
            line += 1
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            yield line, dict(zip(header, cells, strict=False))
        book.close()

    return Table(header, rows(), total)


# -- JSON ---------------------------------------------------------------------------------------


def read_json(data: bytes, profile: Profile) -> Table:
    """A JSON array of flat objects (or ``{"records": [...]}``); the "line" is the
    record's position, counted from 1."""
    try:
        doc = json.loads(_decode(data, "utf-8"))
    except json.JSONDecodeError as exc:
        raise ReadError(f"not JSON: {exc.msg} at line {exc.lineno}", exc.lineno) from None
    records = doc.get("records") if isinstance(doc, dict) else doc
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ReadError('expected a JSON array of objects (or {"records": [...]})')
    header = list(dict.fromkeys(k for r in records for k in r))
    return Table(header, ((i, r) for i, r in enumerate(records, start=1)), len(records))


register("csv", read_csv)
register("xlsx", read_xlsx)
register("json", read_json)
