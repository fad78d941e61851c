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
import json
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
_MAYBE_SURROGATE = re.compile("\\\\u[dD][89a-fA-F]|[\ud800-\udfff]")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_CONTAINERS = (dict, list)


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


#: a path as a chain of links ``(parent, key)``, rendered only for a refused field
Path = tuple[Any, ...]


def _render(path: Path) -> str:
    keys: list[str | int] = []
    while path:
        path, key = path
        keys.append(key)
    out = ""
    for key in reversed(keys):
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            name = escape_surrogates(key)
            out = f"{out}.{name}" if out else name
    return out or "$"


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the (well-formed) JSON ``text`` nests containers deeper than ``limit``.

    On the text, at C speed, whatever the size: strings are blanked, everything but
    brackets dropped, then each pass removes every innermost ``[]``/``{}`` pair, i.e.
    exactly one level. (Walking the parsed value in Python cost seconds on a 5 MB body.)
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST.sub("", brackets)
    return bool(brackets)


def surrogate_fields(value: Any) -> list[str]:
    """Paths of the keys and strings of ``value`` holding an unpaired surrogate."""
    bad: list[Path] = []
    if type(value) is str:
        if _SURROGATE.search(value):
            bad.append(())
        return [_render(p) for p in bad]
    stack: list[tuple[Any, Path]] = [(value, ())] if type(value) in _CONTAINERS else []
    while stack:
        item, path = stack.pop()
        pairs = item.items() if type(item) is dict else enumerate(item)
        for key, child in pairs:
            kind = type(child)
            if type(key) is str and _SURROGATE.search(key):
                bad.append((path, key))
            elif kind is str:
                if _SURROGATE.search(child):
                    bad.append((path, key))
            elif kind in _CONTAINERS:
                stack.append((child, (path, key)))
    return sorted(_render(p) for p in bad)


def check(text: str, value: Any) -> None:
    """Raise :class:`HostileJSON` if ``value`` (parsed from ``text``) nests deeper than
    MAX_DEPTH or holds an unpaired surrogate in any key or string."""
    if nested_deeper_than(text, MAX_DEPTH):
        raise _too_deep()
    # a surrogate can only come from a \uD800-\uDFFF escape or from the raw code point
    # (bytes decoded with surrogatepass): without either, no walk is needed
    if _MAYBE_SURROGATE.search(text):
        bad = surrogate_fields(value)
        if bad:
            message = "must be valid Unicode text (no unpaired UTF-16 surrogate \\ud800-\\udfff)"
            raise HostileJSON(
                ValidationFailed({name: [message] for name in bad[:MAX_NAMED_FIELDS]})
            )


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, whose ``loads`` refuses hostile documents (see the module doc)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if isinstance(s, bytes | bytearray):  # decoded as json.loads does it
            s = bytes(s).decode(json.detect_encoding(s), "surrogatepass")
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise _too_deep() from None
        check(s, value)
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
