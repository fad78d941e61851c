"""Opening hours (directory ``hours`` column): parsing, open/closed in Lima, next opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseapp.directory.hours import LIMA, OpeningHours, parse_hours

# 2026-03-09 is a Monday; 2026-03-14 a Saturday.
MON, SAT, SUN = 9, 14, 15


def lima(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=LIMA)


OFFICE = parse_hours("mon-fri 08:00-17:00")


@pytest.mark.parametrize(
    ("situation", "text", "at", "is_open"),
    [
        ("office hours, Monday 08:00 sharp -> open", "mon-fri 08:00-17:00", lima(MON, 8), True),
        ("office hours, Monday 07:59 -> closed", "mon-fri 08:00-17:00", lima(MON, 7, 59), False),
        ("office hours, 16:59:59 -> open", "mon-fri 08:00-17:00", lima(MON, 16, 59, 59), True),
        ("office hours, 17:00 closing -> closed", "mon-fri 08:00-17:00", lima(MON, 17), False),
        ("office hours, Saturday noon -> closed", "mon-fri 08:00-17:00", lima(SAT, 12), False),
        ("Saturday mornings, Saturday 10:00 -> open", "mon-sat 08:00-13:00", lima(SAT, 10), True),
        ("Saturday mornings, Sunday 10:00 -> closed", "mon-sat 08:00-13:00", lima(SUN, 10), False),
        ("24/7, Sunday 03:00 -> open", "24/7", lima(SUN, 3), True),
        (
            "two ranges, Saturday 10:00 -> open",
            "mon-fri 08:00-17:00, sat 09:00-13:00",
            lima(SAT, 10),
            True,
        ),
        (
            "overnight range, Saturday 02:00 belongs to Friday night -> open",
            "fri 22:00-06:00",
            lima(SAT, 2),
            True,
        ),
        ("overnight range, Friday 21:00 -> closed", "fri 22:00-06:00", lima(13, 21), False),
        ("wrapping over the week end, Monday 01:00 -> open", "sun 20:00-02:00", lima(16, 1), True),
        ("Spanish days and en dashes", "lun–vie 08:00–17:00", lima(MON, 9), True),
        (
            "UTC instant 13:00Z is 08:00 in Lima -> open",
            "mon-fri 08:00-17:00",
            datetime(2026, 3, MON, 13, 0, tzinfo=UTC),
            True,
        ),
        (
            "UTC instant 12:59Z is 07:59 in Lima -> closed",
            "mon-fri 08:00-17:00",
            datetime(2026, 3, MON, 12, 59, tzinfo=UTC),
            False,
        ),
    ],
)
def test_is_open(situation: str, text: str, at: datetime, is_open: bool) -> None:
    assert parse_hours(text).is_open(at) is is_open, situation


@pytest.mark.parametrize(
    ("situation", "text", "at", "expected"),
    [
        (
            "Saturday 23:00 office hours -> Monday 08:00",
            "mon-fri 08:00-17:00",
            lima(SAT, 23),
            lima(16, 8),
        ),
        ("Friday 17:00 -> Monday 08:00", "mon-fri 08:00-17:00", lima(13, 17), lima(16, 8)),
        ("Tuesday 06:30 -> same day 08:00", "mon-fri 08:00-17:00", lima(10, 6, 30), lima(10, 8)),
        ("already open -> now", "mon-fri 08:00-17:00", lima(10, 9, 15), lima(10, 9, 15)),
        ("24/7 -> now", "24/7", lima(SUN, 3), lima(SUN, 3)),
        (
            "Saturday 13:00 with Saturday mornings -> Monday 08:00",
            "mon-sat 08:00-13:00",
            lima(SAT, 13),
            lima(16, 8),
        ),
        (
            "Sunday 12:00 with a Sunday range later -> Sunday 15:00",
            "mon-fri 08:00-17:00; sun 15:00-18:00",
            lima(SUN, 12),
            lima(SUN, 15),
        ),
    ],
)
def test_next_opening(situation: str, text: str, at: datetime, expected: datetime) -> None:
    result = parse_hours(text).next_opening(at)
    assert result == expected, situation
    assert result is not None and result.tzinfo is not None
    assert result.utcoffset() == timedelta(hours=-5)


def test_next_opening_is_returned_in_lima_time_for_a_utc_instant() -> None:
    result = OFFICE.next_opening(datetime(2026, 3, SUN, 4, 0, tzinfo=UTC))  # Sat 23:00 Lima
    assert result == lima(16, 8)
    assert result is not None and result.tzinfo == ZoneInfo("America/Lima")


@pytest.mark.parametrize(
    ("text", "always"),
    [
        ("24/7", True),
        ("24h", True),
        ("mon-sun 00:00-24:00", True),
        ("mon-fri 00:00-24:00, sat-sun 00:00-24:00", True),
        ("mon-sun 06:00-05:59", False),
        ("mon-fri 08:00-17:00", False),
    ],
)
def test_is_always_open(text: str, always: bool) -> None:
    assert parse_hours(text).is_always_open is always


@pytest.mark.parametrize(
    ("text", "es", "en"),
    [
        ("mon-fri 08:00-17:00", "lun–vie 08:00–17:00", "Mon–Fri 08:00–17:00"),
        ("MON-SAT 08:00-13:00", "lun–sáb 08:00–13:00", "Mon–Sat 08:00–13:00"),
        (
            "mon-fri 8:00-17:00; sat 09:00-12:00",
            "lun–vie 08:00–17:00, sáb 09:00–12:00",
            "Mon–Fri 08:00–17:00, Sat 09:00–12:00",
        ),
        ("24/7", "24 horas, todos los días", "24 hours, every day"),
    ],
)
def test_describe_in_spanish_and_english(text: str, es: str, en: str) -> None:
    hours = parse_hours(text)
    assert str(hours) == es
    assert hours.describe("es") == es
    assert hours.describe("en_GB") == en


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("always", "cannot read"),
        ("mon-fri", "cannot read"),
        ("mon-fri 08:00", "cannot read"),
        ("mon-fri 25:00-26:00", "impossible time"),
        ("mon-fri 08:60-17:00", "impossible time"),
        ("mon-xyz 08:00-17:00", "unknown day"),
        ("mon-fri 08:00-08:00", "same time"),
        ("mon-fri 08:00-17:00,", "empty range"),
    ],
)
def test_bad_hours_raise_a_clear_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        OFFICE.is_open(datetime(2026, 3, MON, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        parse_hours("24/7").next_opening(datetime(2026, 3, MON, 9, 0))


def test_opening_hours_are_frozen_and_hashable() -> None:
    hours = parse_hours("mon-fri 08:00-17:00")
    assert hours == parse_hours("Mon-Fri 08:00-17:00")
    assert hash(hours) == hash(parse_hours("mon-fri 08:00-17:00"))
    with pytest.raises(AttributeError):
        hours.always_open = True  # type: ignore[misc]


# --- properties -------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.composite
def schedules(draw: st.DrawFn) -> OpeningHours:
    if draw(st.booleans()) and draw(st.booleans()):
        return parse_hours("24/7")
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        d1, d2 = draw(st.sampled_from(_DAYS)), draw(st.sampled_from(_DAYS))
        start = draw(st.integers(0, 24 * 60 - 1))
        end = draw(st.integers(1, 24 * 60).filter(lambda e, s=start: e != s))
        parts.append(f"{d1}-{d2} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
    return parse_hours(", ".join(parts))


instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(LIMA)
)


@settings(max_examples=200, deadline=None)
@given(schedules(), instants)
def test_next_opening_is_open_and_nothing_opens_earlier(hours: OpeningHours, at: datetime) -> None:
    nxt = hours.next_opening(at)
    assert nxt is not None
    assert nxt >= at
    assert nxt - at <= timedelta(days=7)
    assert hours.is_open(nxt)
    # No whole minute strictly between `at` and `nxt` is open.
    probe = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    steps = 0
    while probe < nxt and steps < 200:
        assert not hours.is_open(probe)
        probe += timedelta(minutes=max(1, int((nxt - at).total_seconds() // 60 // 150)))
        steps += 1


@settings(max_examples=200, deadline=None)
@given(schedules())
def test_canonical_text_parses_back_to_the_same_hours(hours: OpeningHours) -> None:
    assert parse_hours(hours.canonical()) == hours


@settings(max_examples=100, deadline=None)
@given(instants)
def test_always_open_is_open_at_every_instant(at: datetime) -> None:
    assert parse_hours("24/7").is_open(at)
    assert parse_hours("mon-sun 00:00-24:00").is_open(at)
