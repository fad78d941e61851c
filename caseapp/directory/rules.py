"""Pure parsing of the service directory (directory.csv) and regions (regions.csv).

No I/O: callers read the CSV (``csv.DictReader``) and hand rows in, so the same parser
serves ``flask seed --directory FILE``, the admin upload and the rule tests. Errors name
the provider code and the column, because a shelter coordinator fixes the file by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from caseapp.core import codes
from caseapp.directory.hours import OpeningHours, parse_hours

_TRUE = frozenset({"true", "yes", "1", "si", "sí"})
_FALSE = frozenset({"false", "no", "0"})
_SEXES = frozenset({"F", "M", "any"})
RESIDENTIAL_SERVICE_TYPES = codes.RESIDENTIAL_SERVICES


@dataclass(frozen=True)
class ProviderFacts:
    """One provider (organization service) of the directory, as the rules see it."""

    code: str
    name: str
    service_type: str
    region: str
    hours: OpeningHours
    min_age: int = 0
    max_age: int = 120
    sexes: str = "any"
    accepts_transgender: bool = True
    accepts_foreign: bool = True
    capacity: int | None = None
    occupancy: int = 0
    languages: tuple[str, ...] = ("es",)
    nationalities: tuple[str, ...] = ()
    serves: frozenset[str] = frozenset()
    is_active: bool = True

    @property
    def is_residential(self) -> bool:
        return self.service_type in RESIDENTIAL_SERVICE_TYPES

    @property
    def has_free_capacity(self) -> bool:
        """Only residential services fill up; an unknown capacity is never "full"."""
        if not self.is_residential or self.capacity is None:
            return True
        return self.occupancy < self.capacity

    def summary(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "region": self.region}


def parse_directory_row(row: Mapping[str, str | None], occupancy: int = 0) -> ProviderFacts:
    """One directory.csv row → :class:`ProviderFacts`; ``ValueError`` on a bad value.

    Blank ``capacity`` = no bed count (non-residential, or unknown); blank
    ``nationalities`` / ``serves`` = no restriction. Occupancy is not in the file: it comes
    from admissions, so the caller passes it.
    """
    code = _text(row, "code", "?")
    if not code or code == "?":
        raise ValueError("directory row without a code")

    def fail(column: str, problem: str) -> ValueError:
        return ValueError(f"directory row {code}: column {column!r} {problem}")

    min_age = _int(row, "min_age", code, default=0)
    max_age = _int(row, "max_age", code, default=120)
    if min_age is None or max_age is None or min_age > max_age:
        raise fail("min_age", f"({min_age}) is greater than max_age ({max_age})")
    sexes = _text(row, "sexes", "any") or "any"
    if sexes.lower() == "any":
        sexes = "any"
    if sexes not in _SEXES:
        raise fail("sexes", f"must be F, M or any, not {sexes!r}")
    try:
        hours = parse_hours(_text(row, "hours", ""))
    except ValueError as exc:
        raise fail("hours", str(exc)) from None
    service_type = _text(row, "service_type", "")
    if not service_type:
        raise fail("service_type", "is empty")
    region = _text(row, "region", "")
    if not region:
        raise fail("region", "is empty")
    capacity = _int(row, "capacity", code, default=None)
    if capacity is not None and capacity < 0:
        raise fail("capacity", "is negative")
    return ProviderFacts(
        code=code,
        name=_text(row, "name", code) or code,
        service_type=service_type,
        region=region,
        hours=hours,
        min_age=min_age,
        max_age=max_age,
        sexes=sexes,
        accepts_transgender=_bool(row, "accepts_transgender", code, default=True),
        accepts_foreign=_bool(row, "accepts_foreign", code, default=True),
        capacity=capacity,
        occupancy=occupancy,
        languages=_list(row, "languages") or ("es",),
        nationalities=tuple(n.upper() for n in _list(row, "nationalities")),
        serves=frozenset(_list(row, "serves")),
        is_active=_bool(row, "is_active", code, default=True),
    )


def parse_region_coords(rows: Iterable[Mapping[str, str]]) -> dict[str, tuple[float, float]]:
    """regions.csv rows → ``{code: (lat, lon)}`` of the region capitals."""
    coords: dict[str, tuple[float, float]] = {}
    for row in rows:
        code = (row.get("code") or "").strip()
        try:
            lat, lon = float(row["lat"]), float(row["lon"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"region {code or '?'}: lat/lon missing or not a number") from None
        if not code:
            raise ValueError("region row without a code")
        coords[code] = (lat, lon)
    return coords


def _text(row: Mapping[str, str | None], column: str, default: str) -> str:
    value = row.get(column)
    return default if value is None else value.strip()


def _list(row: Mapping[str, str | None], column: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in _text(row, column, "").split(";") if item.strip())


def _int(row: Mapping[str, str | None], column: str, code: str, default: int | None) -> int | None:
    text = _text(row, column, "")
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(
            f"directory row {code}: column {column!r} must be a whole number, not {text!r}"
        ) from None


def _bool(row: Mapping[str, str | None], column: str, code: str, default: bool) -> bool:
    text = _text(row, column, "").lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"directory row {code}: column {column!r} must be true or false, not {text!r}")
