"""Every JSON body is parsed in one place, with bounded nesting and no unpaired surrogates.

Two hostile bodies were 500s (issue 13, finding 8): JSON nested a thousand levels deep
(the decoder's RecursionError is not a ValueError, so Flask let it through) and a lone
UTF-16 surrogate such as ``"\\ud800"`` — valid JSON syntax, but no UTF-8 text can hold it,
so the driver failed on INSERT. The app's JSON provider now refuses both while parsing:
nesting deeper than ``MAX_DEPTH`` is a 400 ``malformed_json``; a surrogate in any key or
value is a 422 naming each such field (escaped, so the answer itself is clean text). A
before-request hook parses the body of every POST/PUT/PATCH/DELETE early, after the access
guard (it tells anonymous callers nothing), so no view, and not the NUL check's walk,
ever sees such a value.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from caseapp.core.errors import DomainError, ValidationFailed

#: far beyond any Ruta document (a screening is 4 levels deep) and far below the
#: interpreter's recursion limit, so every walker after the parser is safe
MAX_DEPTH = 64
#: a body with thousands of bad strings is answered with the first ones only
MAX_NAMED_FIELDS = 50
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SURROGATE = re.compile("[\ud800-\udfff]")


class HostileJSON(ValueError):
    """Parsed, but refused; carries the 4xx the client gets."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


def _too_deep() -> HostileJSON:
    return HostileJSON(
        DomainError(f"JSON is nested deeper than {MAX_DEPTH} levels", code="malformed_json")
    )


def escape_surrogates(text: str) -> str:
    """``"a\\ud800"`` → ``"a\\\\ud800"``: the surrogate shown as its escape, as plain text."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def check(value: Any) -> None:
    """Raise :class:`HostileJSON` if ``value`` nests deeper than MAX_DEPTH or holds an
    unpaired surrogate in any key or string. Iterative: safe on any parsed depth."""
    bad: list[str] = []
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                bad.append(path or "$")
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep()
            if isinstance(item, dict):
                children = []
                for key, child in item.items():
                    name = escape_surrogates(str(key))
                    where = f"{path}.{name}" if path else name
                    if name != key:
                        bad.append(where)
                    else:
                        children.append((child, where, depth + 1))
            else:
                children = [(c, f"{path}[{i}]", depth + 1) for i, c in enumerate(item)]
            stack.extend(reversed(children))
    if bad:
        message = (
            "must be valid Unicode text: an unpaired UTF-16 surrogate (\\ud800–\\udfff) is not"
        )
        raise HostileJSON(ValidationFailed({name: [message] for name in bad[:MAX_NAMED_FIELDS]}))


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, whose ``loads`` refuses hostile documents (see the module doc)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise _too_deep() from None
        check(value)
        return value


class GuardedRequest(Request):
    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if isinstance(e, HostileJSON):
            raise e.error from e
        return super().on_json_loading_failed(e)


def refuse_hostile_json() -> None:
    """Before-request hook: a hostile JSON body is refused here, whatever the endpoint.
    Merely malformed JSON is left to the view (``core/api.py:json_body`` answers 400 where
    a body is wanted; an action without a body ignores it, as before)."""
    if request.method in BODY_METHODS and request.is_json:
        with contextlib.suppress(BadRequest):
            request.get_json()


def init_app(app: Flask) -> None:
    """Install the guarded provider and request class and the hook (call it after the
    access guard's hook is registered)."""
    old = app.json
    provider = GuardedJSONProvider(app)
    for name in ("ensure_ascii", "sort_keys", "compact", "mimetype"):
        setattr(provider, name, getattr(old, name))
    app.json = provider
    app.request_class = GuardedRequest
    app.before_request(refuse_hostile_json)
