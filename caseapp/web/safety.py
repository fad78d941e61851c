"""Small request-safety helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import abort, request

from caseapp.core.contract import NUL, NUL_MESSAGE
from caseapp.core.errors import ValidationFailed


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
        raise ValidationFailed({name.replace(NUL, "\\0"): [NUL_MESSAGE] for name in fields})
