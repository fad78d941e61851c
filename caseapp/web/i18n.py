"""Locale choice: the user's switch (session), else Spanish. The API honours Accept-Language."""

from __future__ import annotations

from flask import current_app, request, session


def select_locale() -> str:
    supported = list(current_app.config.get("LOCALES", ["es", "en"]))
    default = str(current_app.config.get("DEFAULT_LOCALE", "es"))
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(supported) or default
    chosen = session.get("lang")
    return str(chosen) if chosen in supported else default
