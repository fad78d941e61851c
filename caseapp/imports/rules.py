"""Mapping profiles and rows: how one row of an existing register becomes the screening
request the API takes (api.md §4). Pure: no Flask, no database, no files.

A profile (``config/import/<name>.toml``, docs/imports.md) says which source column fills
which field of the screening contract, how source values translate into Ruta's codes,
which date formats the register writes, which defaults every row gets, and which register
(and which list of the overlap table and the estimate) the records come from. The request a
row makes is then validated by the very contract the API uses (``screening.schema``);
this module only prepares it and names every problem by line, column and value.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from caseapp.core import codes
from caseapp.core.time import LIMA

FORMATS = ("csv", "xlsx", "json")
CASE_STATUSES = ("open", "closed")

#: The screening contract's fields a register may fill, and how a cell is read for each.
#: (Consent is not imported: a register's old consent cannot be verified, and imported
#: records plan no referrals.)
FIELD_KINDS: dict[str, str] = {
    "identified_at": "datetime",
    "region": "text",
    "identification_context": "text",
    "person.given_names": "text",
    "person.family_names": "text",
    "person.sex": "text",
    "person.gender_identity": "text",
    "person.lgbtqi": "bool",
    "person.date_of_birth": "date",
    "person.age_years": "int",
    "person.age_estimated": "bool",
    "person.appears_minor": "bool",
    "person.nationality": "list",
    "person.document.type": "text",
    "person.document.number": "text",
    "person.languages": "list",
    "person.pregnant": "bool",
    "person.disability": "bool",
    "person.migration_status": "text",
    "person.unaccompanied": "bool",
    "person.contact": "text",
    "person.address": "text",
    "acts": "list",
    "means": "list",
    "purposes": "list",
    "indicators": "list",
    "stated_consent": "bool",
    "context.origin_region": "text",
    "context.exploitation_region": "text",
    "context.sector": "text",
    "context.trafficker_relation": "text",
    "context.recruitment_method": "text",
    "context.public_official_involved": "bool",
    "context.multiple_victims": "bool",
    "context.criminal_organization": "bool",
    "context.serious_injury_or_death": "bool",
    "needs": "list",
    "notes": "text",
}

#: Built-in value maps: ``@bool`` and ``@<code list>`` (a code, or its Spanish or English
#: label, in any case and with or without accents).
_TRUE = ("si", "s", "yes", "y", "true", "verdadero", "1", "x")
_FALSE = ("no", "n", "false", "falso", "0")


class ProfileError(ValueError):
    """A profile that cannot be used; ``problems`` lists every mistake in it."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"profile {name!r}: " + "; ".join(self.problems))


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a file: its line (0: the whole file), column, value and message."""

    line: int
    column: str
    value: str
    message: str

    def as_row(self) -> tuple[str, str, str, str]:
        return (str(self.line), self.column, self.value, self.message)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    source: str
    field: str
    map: str | None = None
    split: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    format: str
    register: str
    list_kind: str
    source_id: str
    columns: tuple[ColumnSpec, ...]
    maps: Mapping[str, Mapping[str, str]]
    defaults: Mapping[str, Any]
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    sheet: str | None = None
    header_row: int = 1
    encoding: str = "utf-8"
    delimiter: str = ","
    case_status: str = "closed"
    description: str = ""
    _by_field: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return (self.source_id, *(c.source for c in self.columns if c.required))

    def column_of(self, path: str) -> str:
        """The source column behind a contract field path (``acts[2]`` → ``acts``); a
        field filled by a default has none (``""``)."""
        bare = re.sub(r"\[\d+\]", "", path)
        while bare:
            if bare in self._by_field:
                return self._by_field[bare]
            bare = bare.rpartition(".")[0]
        return ""


# -- loading a profile ------------------------------------------------------------------------


@functools.lru_cache(maxsize=65_536)
def normalized(value: str) -> str:
    """Case-, accent- and spacing-insensitive key of a source value (memoised: a
    register repeats a few hundred distinct values over its rows)."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


def _code_map(list_name: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in codes.get(list_name):
        for key in (item.code, item.es, item.en):
            mapping.setdefault(normalized(key), item.code)
    return mapping


def _builtin_map(name: str) -> dict[str, str] | None:
    if name == "@bool":
        return {**{k: "true" for k in _TRUE}, **{k: "false" for k in _FALSE}}
    try:
        return _code_map(name[1:])
    except KeyError:
        return None


def load_profile(name: str, doc: Mapping[str, Any]) -> Profile:
    """A profile from its parsed TOML; raise :class:`ProfileError` naming every mistake."""
    problems: list[str] = []

    def text(key: str, default: str | None = None) -> str:
        value = doc.get(key, default)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key} is required (text)")
            return ""
        return value

    fmt = text("format")
    if fmt and fmt not in FORMATS and fmt not in _EXTRA_FORMATS:
        problems.append(f"format must be one of {', '.join(FORMATS + _EXTRA_FORMATS)}")
    list_kind = text("list")
    if list_kind and list_kind not in codes.get("org_kind"):
        problems.append(f"list {list_kind!r} is not an organization kind (codes.md org_kind)")
    case_status = text("case_status", "closed")
    if case_status and case_status not in CASE_STATUSES:
        problems.append("case_status must be open or closed")
    maps: dict[str, dict[str, str]] = {}
    for map_name, table in (doc.get("maps") or {}).items():
        if not isinstance(table, Mapping) or not all(isinstance(v, str) for v in table.values()):
            problems.append(f"maps.{map_name} must map source values to codes (text)")
            continue
        maps[map_name] = {normalized(str(k)): v for k, v in table.items()}
    columns: list[ColumnSpec] = []
    for source, spec in (doc.get("columns") or {}).items():
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, Mapping) or not isinstance(spec.get("field"), str):
            problems.append(f"columns.{source!r} needs a field")
            continue
        unknown = set(spec) - {"field", "map", "split", "required"}
        if unknown:
            problems.append(f"columns.{source!r}: unknown keys {sorted(unknown)}")
        path = spec["field"]
        if path not in FIELD_KINDS:
            problems.append(f"columns.{source!r}: {path!r} is not a field of the screening request")
        map_name = spec.get("map")
        if map_name is not None and map_name not in maps:
            builtin = _builtin_map(map_name) if map_name.startswith("@") else None
            if builtin is None:
                problems.append(f"columns.{source!r}: no map named {map_name!r}")
            else:
                maps[map_name] = builtin
        split = spec.get("split")
        if split is None and FIELD_KINDS.get(path) == "list":
            split = ";"
        columns.append(ColumnSpec(source, path, map_name, split, bool(spec.get("required", True))))
    if not columns:
        problems.append("columns: map at least one source column")
    defaults = dict(doc.get("defaults") or {})
    for path in defaults:
        if path not in FIELD_KINDS:
            problems.append(f"defaults: {path!r} is not a field of the screening request")
    by_field: dict[str, str] = {}
    for column in columns:
        if column.field in by_field:
            problems.append(f"{column.field!r} is filled by two columns")
        by_field[column.field] = column.source
    formats = doc.get("date_formats", ["%Y-%m-%d"])
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
        problems.append("date_formats must be a list of strftime formats")
        formats = ["%Y-%m-%d"]
    header_row = doc.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        problems.append("header_row must be a positive whole number")
        header_row = 1
    source_id = text("source_id")
    register = text("register")
    if problems:
        raise ProfileError(name, problems)
    return Profile(
        name=name,
        title=str(doc.get("title") or name),
        description=str(doc.get("description") or ""),
        format=fmt,
        register=register,
        list_kind=list_kind,
        source_id=source_id,
        columns=tuple(columns),
        maps=maps,
        defaults=defaults,
        date_formats=tuple(formats),
        sheet=doc.get("sheet"),
        header_row=header_row,
        encoding=str(doc.get("encoding") or "utf-8"),
        delimiter=str(doc.get("delimiter") or ","),
        case_status=case_status,
        _by_field=by_field,
    )


#: Formats a plugged-in reader adds (``readers.register``): known to profiles by name.
_EXTRA_FORMATS: tuple[str, ...] = ()


def allow_format(name: str) -> None:
    global _EXTRA_FORMATS
    if name not in FORMATS + _EXTRA_FORMATS:
        _EXTRA_FORMATS = (*_EXTRA_FORMATS, name)


# -- the header -------------------------------------------------------------------------------


def header_problems(profile: Profile, header: Sequence[str]) -> list[Problem]:
    """Every required column the file lacks, at once (line 0: the file)."""
    present = {normalized(h) for h in header if h}
    return [
        Problem(profile.header_row, column, "", "column missing from the file")
        for column in dict.fromkeys(profile.required_columns)
        if normalized(column) not in present
    ]


# -- a row ------------------------------------------------------------------------------------


@dataclass(slots=True)
class MappedRow:
    line: int
    source_id: str
    payload: dict[str, Any]
    problems: list[Problem]
    #: contract path → the cell text it came from (to report a contract error's value)
    cells: dict[str, str]


def cell_text(value: Any) -> str:
    """A cell as the user sees it (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _set(payload: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    target = payload
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def map_row(
    profile: Profile,
    line: int,
    cells: Mapping[str, Any],
    *,
    headers: Mapping[str, str],
    today: date,
) -> MappedRow:
    """The screening request of one row, or the problems that prevent it.

    ``cells`` is keyed by the file's own header; ``headers`` maps a normalized column name
    to that header (so "Fecha de Registro" matches "fecha de registro")."""
    problems: list[Problem] = []
    payload: dict[str, Any] = {"acts": [], "means": [], "purposes": []}
    for path, value in profile.defaults.items():
        _set(payload, path, value)
    shown: dict[str, str] = {}

    def cell(column: str) -> Any:
        key = headers.get(normalized(column))
        return None if key is None else cells.get(key)

    raw_id = cell(profile.source_id)
    source_id = cell_text(raw_id)
    if not source_id:
        problems.append(Problem(line, profile.source_id, "", "source record id is missing"))
    has_document_number = False
    for spec in profile.columns:
        raw = cell(spec.source)
        if _blank(raw):
            continue
        text = cell_text(raw)
        shown[spec.field] = text
        value, message = _convert(profile, spec, raw, text, today)
        if message:
            problems.append(Problem(line, spec.source, text, message))
            continue
        _set(payload, spec.field, value)
        if spec.field == "person.document.number":
            has_document_number = True
    person = payload.get("person")
    # a default document type alone (no number, no type in this row) means no document
    if (
        isinstance(person, dict)
        and "document" in person
        and not has_document_number
        and "person.document.type" not in shown
    ):
        del person["document"]
    return MappedRow(line, source_id, payload, problems, shown)


def _convert(
    profile: Profile, spec: ColumnSpec, raw: Any, text: str, today: date
) -> tuple[Any, str]:
    kind = FIELD_KINDS[spec.field]
    if kind == "list":
        parts = [p.strip() for p in text.split(spec.split or ";") if p.strip()]
        mapped = []
        for part in parts:
            value, message = _mapped(profile, spec, part)
            if message:
                return None, message
            mapped.append(value)
        return list(dict.fromkeys(mapped)), ""
    if kind in ("date", "datetime"):
        when, message = _when(profile, raw, text)
        if message:
            return None, message
        assert when is not None
        if when.date() > today:
            return None, f"date in the future (today is {today.isoformat()})"
        if kind == "date":
            return when.date().isoformat(), ""
        return when.replace(tzinfo=LIMA).isoformat(), ""
    value, message = _mapped(profile, spec, text) if spec.map else (text, "")
    if message:
        return None, message
    if kind == "bool":
        flag = normalized(str(value))
        if flag in ("true", *_TRUE):
            return True, ""
        if flag in ("false", *_FALSE):
            return False, ""
        return None, "not a yes/no value (sí/no)"
    if kind == "int":
        if isinstance(raw, bool):
            return None, "not a whole number"
        if isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer()):
            return int(raw), ""
        if re.fullmatch(r"\s*\d{1,3}\s*", str(value)):
            return int(value), ""
        return None, "not a whole number"
    return value, ""


def _mapped(profile: Profile, spec: ColumnSpec, text: str) -> tuple[str, str]:
    if not spec.map:
        return text, ""
    table = profile.maps[spec.map]
    found = table.get(normalized(text))
    if found is None and spec.map == "@bool":
        return "", "not a yes/no value (sí/no)"
    if found is None:
        known = sorted({k for k in table if k})
        hint = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
        return "", f"unknown value (map {spec.map}: {hint})"
    return found, ""


def _when(profile: Profile, raw: Any, text: str) -> tuple[datetime | None, str]:
    """A date (spreadsheet date cells as they are, text in the profile's formats)."""
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=None), ""
    if isinstance(raw, date):
        return datetime.combine(raw, time()), ""
    for fmt in profile.date_formats:
        try:
            return datetime.strptime(text, fmt), ""
        except ValueError:
            continue
    shown = " or ".join(
        f.replace("%d", "dd")
        .replace("%m", "mm")
        .replace("%Y", "yyyy")
        .replace("%H", "hh")
        .replace("%M", "mm")
        for f in profile.date_formats
    )
    return None, f"not a date ({shown})"


def contract_problems(
    profile: Profile, row: MappedRow, fields: Mapping[str, Sequence[str]]
) -> list[Problem]:
    """The screening contract's field errors (``ValidationFailed.fields``) as problems of
    the row: the column behind each field, the cell's value, the contract's message."""
    out = []
    for path, messages in fields.items():
        column = profile.column_of(path)
        bare = re.sub(r"\[\d+\]", "", path)
        value = row.cells.get(bare, "")
        if not column:
            column = f"({path})"  # a profile default the contract refuses
        for message in messages:
            out.append(Problem(row.line, column, value, message))
    return out


def duplicate_problem(profile: Profile, line: int, source_id: str, first: int) -> Problem:
    return Problem(
        line,
        profile.source_id,
        source_id,
        f"source record id repeats line {first} (lines {first} and {line})",
    )


REPORT_HEADER = ("line", "column", "value", "message")
