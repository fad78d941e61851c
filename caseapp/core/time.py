"""Time in Ruta: stored in UTC, shown and exchanged in Lima's wall-clock time (api.md §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

LIMA = ZoneInfo("America/Lima")


def iso(value: Any) -> str | None:
    """ISO 8601 in Lima time with its offset (api.md §3: the local zone is America/Lima)."""
    return value.astimezone(LIMA).isoformat() if value is not None else None


def lima_iso(value: datetime | None) -> str | None:
    """A ``datetime-local`` input (wall-clock Lima time) as ISO 8601 with its offset."""
    if value is None:
        return None
    return value.replace(tzinfo=LIMA).isoformat()


# How people read a moment in Ruta, in Spanish and in English alike (pages, letters, and
# the texts of reasons, alerts and gaps): day/month/year and 24-hour time in Lima. The day
# names are fixed here rather than taken from the process's C locale (``%a``).
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"
_DAY_NAMES = {
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def lima_text(
    value: datetime | str | None,
    locale: str = "es",
    *,
    weekday: bool = False,
    with_time: bool = True,
    empty: str = "",
) -> str:
    """``value`` (an aware datetime or ISO 8601 text) as ``30/11/2026 08:00`` in Lima time;
    with ``weekday``, ``lun 30/11/2026 08:00`` / ``Mon 30/11/2026 08:00``. ``empty`` for
    no value; text that is not ISO 8601 is returned as it is."""
    if value is None or value == "":
        return empty
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    local = moment.astimezone(LIMA)
    text = local.strftime(DATETIME_FORMAT if with_time else DATE_FORMAT)
    if weekday:
        names = _DAY_NAMES["en" if locale.startswith("en") else "es"]
        text = f"{names[local.weekday()]} {text}"
    return text
