"""The language of the current request (Spanish unless the person chose English)."""

from __future__ import annotations

from flask_babel import get_locale


def locale() -> str:
    return str(get_locale() or "es")
