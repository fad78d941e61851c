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
