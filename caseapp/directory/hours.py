"""Opening hours of a service provider (directory.csv column ``hours``).

Pure: no Flask, no database. Hours are wall-clock times in America/Lima (Peru has no
daylight saving time), because that is how providers publish them and how the referral
rules (domain.md §3, C5 and the out-of-hours tie-break) reason about them.

Accepted text (case-insensitive, liberal so that a hand-edited directory still loads):

* ``24/7`` (also ``24h`` / ``24 h``): always open;
* one or more ranges separated by ``,`` or ``;``, each ``DAYS HH:MM-HH:MM`` where DAYS is
  a day (``sat``) or a span (``mon-fri``; may wrap, ``fri-mon``), in English or Spanish
  abbreviations (``lun-vie``), and the times may use ``–`` and end at ``24:00``.
  A range whose end is earlier than its start runs past midnight (``fri 22:00-06:00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from caseapp.core.time import LIMA

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_DAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ES = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
_DAY_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: Every spelling accepted for a day, mapped to its weekday number (Monday = 0).
_DAY_ALIASES: dict[str, int] = {}
for _i, _names in enumerate(
    (
        ("mon", "monday", "lun", "lunes"),
        ("tue", "tues", "tuesday", "mar", "martes"),
        ("wed", "wednesday", "mie", "mié", "miercoles", "miércoles"),
        ("thu", "thur", "thurs", "thursday", "jue", "jueves"),
        ("fri", "friday", "vie", "viernes"),
        ("sat", "saturday", "sab", "sáb", "sabado", "sábado"),
        ("sun", "sunday", "dom", "domingo"),
    )
):
    for _name in _names:
        _DAY_ALIASES[_name] = _i

_ALWAYS = frozenset({"24/7", "24h", "24 h", "24x7"})
_DASHES = re.compile(r"\s*[-–—]\s*")
_RANGE = re.compile(
    r"^(?P<d1>[a-záéíóú]+)(?:-(?P<d2>[a-záéíóú]+))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)


@dataclass(frozen=True, order=True)
class TimeRange:
    """One published range: days ``first_day``..``last_day`` (wrapping), ``start``..``end``.

    Times are minutes after midnight; ``end`` may be 1440 (24:00). ``end <= start``
    means the range runs past midnight into the next day.
    """

    first_day: int
    last_day: int
    start: int
    end: int

    @property
    def days(self) -> tuple[int, ...]:
        span = (self.last_day - self.first_day) % 7
        return tuple((self.first_day + k) % 7 for k in range(span + 1))

    def intervals(self) -> tuple[tuple[int, int], ...]:
        """Half-open [from, to) minute-of-week intervals; ``to`` may pass the week end."""
        length = self.end - self.start
        if length <= 0:
            length += MINUTES_PER_DAY
        return tuple(
            (day * MINUTES_PER_DAY + self.start, day * MINUTES_PER_DAY + self.start + length)
            for day in self.days
        )

    def describe(self, locale: str) -> str:
        names = _DAY_ES if _is_spanish(locale) else _DAY_EN
        days = names[self.first_day]
        if self.last_day != self.first_day:
            days = f"{days}–{names[self.last_day]}"
        return f"{days} {_hhmm(self.start)}–{_hhmm(self.end)}"

    def canonical(self) -> str:
        days = _DAY_CODES[self.first_day]
        if self.last_day != self.first_day:
            days = f"{days}-{_DAY_CODES[self.last_day]}"
        return f"{days} {_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening hours in America/Lima. Build with :func:`parse_hours`."""

    ranges: tuple[TimeRange, ...]
    always_open: bool

    @property
    def is_always_open(self) -> bool:
        """True for ``24/7`` and for ranges that together cover the whole week."""
        return self.always_open

    def is_open(self, at: datetime) -> bool:
        """Whether the provider is open at the aware instant ``at`` (read in Lima)."""
        if self.always_open:
            _require_aware(at)
            return True
        minute = _minute_of_week(at)
        return any(
            lo <= m < hi
            for lo, hi in self._intervals()
            for m in (minute, minute + MINUTES_PER_WEEK)
        )

    def next_opening(self, at: datetime) -> datetime | None:
        """The first instant at or after ``at`` when the provider is open, in Lima time.

        Returns ``at`` itself (converted to Lima) when already open. ``None`` only for a
        schedule with no opening at all, which :func:`parse_hours` never builds.
        """
        local = _to_lima(at)
        if self.is_open(local):
            return local
        week_start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
            days=local.weekday()
        )
        best: datetime | None = None
        for lo, _hi in self._intervals():
            candidate = week_start + timedelta(minutes=lo % MINUTES_PER_WEEK)
            if candidate <= local:
                candidate += timedelta(days=7)
            if best is None or candidate < best:
                best = candidate
        return best

    def describe(self, locale: str = "es") -> str:
        """Human text: ``lun–vie 08:00–17:00`` (es) or ``Mon–Fri 08:00–17:00`` (en)."""
        if self.always_open and not self.ranges:
            return "24 horas, todos los días" if _is_spanish(locale) else "24 hours, every day"
        return ", ".join(r.describe(locale) for r in self.ranges)

    def canonical(self) -> str:
        """Directory spelling (``24/7`` or ``mon-fri 08:00-17:00``); parses back equal."""
        if self.always_open and not self.ranges:
            return "24/7"
        return ", ".join(r.canonical() for r in self.ranges)

    def __str__(self) -> str:
        return self.describe("es")

    def _intervals(self) -> tuple[tuple[int, int], ...]:
        return tuple(iv for r in self.ranges for iv in r.intervals())


ALWAYS_OPEN = OpeningHours(ranges=(), always_open=True)


def parse_hours(text: str) -> OpeningHours:
    """Parse the directory's ``hours`` text; raise ``ValueError`` saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"opening hours must be text, got {type(text).__name__}")
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise ValueError("opening hours are empty: use '24/7' or e.g. 'mon-fri 08:00-17:00'")
    if cleaned in _ALWAYS:
        return ALWAYS_OPEN
    ranges: list[TimeRange] = []
    for part in re.split(r"[,;]", cleaned):
        part = _DASHES.sub("-", part.strip())
        if not part:
            raise ValueError(f"opening hours {text!r}: empty range between separators")
        ranges.append(_parse_range(part, text))
    unique = tuple(dict.fromkeys(ranges))
    return OpeningHours(ranges=unique, always_open=_covers_week(unique))


def _parse_range(part: str, original: str) -> TimeRange:
    match = _RANGE.match(part)
    if match is None:
        raise ValueError(
            f"opening hours {original!r}: cannot read {part!r}; "
            "expected '24/7' or 'DAY[-DAY] HH:MM-HH:MM', e.g. 'mon-fri 08:00-17:00'"
        )
    first = _day(match["d1"], original)
    last = _day(match["d2"], original) if match["d2"] else first
    start = _minutes(match["h1"], match["m1"], original, allow_24=False)
    end = _minutes(match["h2"], match["m2"], original, allow_24=True)
    if start == end:
        raise ValueError(
            f"opening hours {original!r}: range {part!r} opens and closes at the same time"
        )
    return TimeRange(first_day=first, last_day=last, start=start, end=end)


def _day(name: str, original: str) -> int:
    try:
        return _DAY_ALIASES[name]
    except KeyError:
        raise ValueError(
            f"opening hours {original!r}: unknown day {name!r} "
            "(use mon, tue, wed, thu, fri, sat, sun)"
        ) from None


def _minutes(hours: str, minutes: str, original: str, *, allow_24: bool) -> int:
    h, m = int(hours), int(minutes)
    if allow_24 and h == 24 and m == 0:
        return MINUTES_PER_DAY
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"opening hours {original!r}: impossible time {hours}:{minutes}")
    return h * 60 + m


def _covers_week(ranges: tuple[TimeRange, ...]) -> bool:
    """True when the union of the ranges leaves no minute of the week closed."""
    intervals = [iv for r in ranges for iv in r.intervals()]
    # A range running past Sunday midnight also covers the start of Monday.
    intervals += [(lo - MINUTES_PER_WEEK, hi - MINUTES_PER_WEEK) for lo, hi in intervals]
    reach = 0
    for lo, hi in sorted(intervals):
        if hi <= reach:
            continue
        if lo > reach:
            break
        reach = hi
    return reach >= MINUTES_PER_WEEK


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("opening hours need an aware datetime (with a time zone), got a naive one")


def _to_lima(at: datetime) -> datetime:
    _require_aware(at)
    return at.astimezone(LIMA)


def _minute_of_week(at: datetime) -> int:
    local = _to_lima(at)
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _is_spanish(locale: str) -> bool:
    return locale.lower().replace("_", "-").split("-")[0] != "en"
