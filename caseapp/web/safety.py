"""Small request-safety helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import abort, request, url_for

from caseapp.core.errors import ValidationFailed

NUL = "\x00"
#: C0 controls and DEL: a CR/LF in a redirect target was a header-injection attempt (and
#: a 500 from Werkzeug); no same-site path needs any of them
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default_endpoint: str = "web.home") -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
            and not _CONTROL.search(target)
        ):
            return target
    return url_for(default_endpoint)


def _nul_fields(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path or "$"
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                yield where
            else:
                yield from _nul_fields(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_fields(item, f"{path}[{i}]")


def refuse_nul_characters() -> None:
    """No text in Ruta may contain U+0000: PostgreSQL cannot store it, and a NUL in a URL,
    query, form, JSON body or header was a 500 from the driver (found by hostile-input
    tests). A NUL in the path can name nothing (404); elsewhere it is a 422 naming the
    fields. Runs after the access guard, so it tells anonymous callers nothing new."""
    if NUL in request.path:
        abort(404)
    fields = [name for name, value in request.args.items(multi=True) if NUL in name + value]
    fields += [name for name, value in request.headers.items() if NUL in value]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            fields += _nul_fields(request.get_json(silent=True), "")
        elif not request.path.startswith("/api/"):
            # page forms; never on the API, whose bodies are JSON only (reading the form
            # there would consume a non-JSON body that json_body() must refuse with a 400)
            fields += [n for n, v in request.form.items(multi=True) if NUL in n + v]
    if fields:
        raise ValidationFailed(
            {
                name.replace(NUL, "\\0"): ["must not contain NUL characters (U+0000)"]
                for name in fields
            }
        )
