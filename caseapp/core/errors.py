"""Domain errors raised by services; views turn them into 4xx pages or JSON (api.md §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        if code:
            self.code = code
        self.extra = extra

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        body.update(self.extra)
        return {"error": body}


class ValidationFailed(DomainError):
    """Some fields are invalid."""

    status = 422
    code = "validation_failed"

    def __init__(self, fields: Mapping[str, Sequence[str]], message: str = "") -> None:
        self.fields = {k: list(v) for k, v in fields.items()}
        names = ", ".join(sorted(self.fields))
        super().__init__(message or f"Invalid fields: {names}")

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body["error"]["fields"] = self.fields
        return body


class NotFound(DomainError):
    """Not found."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """You do not have permission for this action."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"
