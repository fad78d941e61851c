"""OpenAPI 3.1 description of /api/v1, generated from the contract models (ADR 0018).

Each feature registers its operations with :func:`operation`, naming the pydantic models
of the request body, the query parameters and the responses; the schemas themselves are
``model_json_schema()`` of those models, collected into ``components/schemas``. Nothing
here restates a field: the model that validates a request is the one documented.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, Field
from pydantic.json_schema import GenerateJsonSchema

from caseapp.core.api import MAX_PAGE, MAX_PER_PAGE
from caseapp.core.contract import NO_NUL, Query, Shape

REF = "#/components/schemas/{model}"

_ERROR_TEXT = {
    400: "Malformed request",
    401: "Missing or invalid token",
    403: "Role not allowed",
    404: "Not found (or not visible to your organization)",
    409: "Conflict",
    413: "Body larger than 5 MB",
    422: "Validation failed; every bad field listed (also: NUL characters anywhere)",
}


class ErrorBody(Shape):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class Error(Shape):
    """api.md §3: every error has a code and a message; a 422 lists the bad fields."""

    error: ErrorBody


class PageShape(Shape):
    """A page of a list endpoint (api.md §3); subclasses declare ``items``."""

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)]
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)]
    total: Annotated[int, Field(ge=0)]


@dataclass(frozen=True)
class Reply:
    """One documented response: a model, a raw schema per media type, or no body."""

    description: str
    model: type[BaseModel] | None = None
    content: dict[str, Any] | None = None


@dataclass
class _Operation:
    summary: str
    description: str | None
    path_params: Sequence[str]
    query: type[Query] | None
    body: type[BaseModel] | None
    body_required: bool
    replies: dict[int, Reply]
    errors: Sequence[int]
    headers: list[dict[str, Any]] = field(default_factory=list)
    public: bool = False


_OPERATIONS: dict[str, dict[str, _Operation]] = {}
#: the document, built once per process (a third of a second of CPU: not on every
#: anonymous request); registering an operation starts it again
_DOCUMENT: dict[str, Any] | None = None


def operation(
    path: str,
    method: str,
    *,
    summary: str,
    replies: dict[int, Reply],
    errors: Iterable[int] = (),
    description: str | None = None,
    query: type[Query] | None = None,
    body: type[BaseModel] | None = None,
    body_required: bool = True,
    headers: Sequence[dict[str, Any]] = (),
    public: bool = False,
) -> None:
    """Register ``method path``; path parameters are read from the ``{names}`` in it."""
    global _DOCUMENT
    _DOCUMENT = None
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    _OPERATIONS.setdefault(path, {})[method.lower()] = _Operation(
        summary=summary,
        description=description,
        path_params=names,
        query=query,
        body=body,
        body_required=body_required,
        replies=replies,
        errors=tuple(errors),
        headers=list(headers),
        public=public,
    )


class _Generator(GenerateJsonSchema):
    """Field titles are noise in an API document (the property names say it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def add(self, model: type[BaseModel]) -> dict[str, Any]:
        """``$ref`` to ``model``, its schema (and the models it uses) added."""
        schema = model.model_json_schema(ref_template=REF, schema_generator=_Generator)
        for name, sub in schema.pop("$defs", {}).items():
            self._put(name, sub)
        self._put(model.__name__, schema)
        return {"$ref": REF.format(model=model.__name__)}

    def _put(self, name: str, schema: dict[str, Any]) -> None:
        if name in self.schemas and self.schemas[name] != schema:
            raise ValueError(f"two different schemas are named {name!r}")
        self.schemas[name] = schema


def _parameters(query: type[Query], components: _Components) -> list[dict[str, Any]]:
    schema = query.model_json_schema(ref_template=REF, schema_generator=_Generator)
    required = set(schema.get("required", ()))
    out: list[dict[str, Any]] = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        param: dict[str, Any] = {"name": name, "in": "query"}
        if "description" in prop:
            param["description"] = prop.pop("description")
        prop.pop("default", None)
        if name in required:
            param["required"] = True
        if prop.get("type") == "array":  # comma lists: ?by=region,sex
            param["style"] = "form"
            param["explode"] = False
        param["schema"] = prop
        out.append(param)
    return out


def _reply(reply: Reply, components: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {"description": reply.description}
    content: dict[str, Any] = {}
    if reply.model is not None:
        content["application/json"] = {"schema": components.add(reply.model)}
    if reply.content:
        content.update(copy.deepcopy(reply.content))
    if content:
        out["content"] = content
    return out


def _render(op: _Operation, components: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {"summary": op.summary}
    if op.description:
        out["description"] = op.description
    if op.public:
        out["security"] = []
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": NO_NUL},
        }
        for name in op.path_params
    ]
    if op.query is not None:
        parameters += _parameters(op.query, components)
    parameters += copy.deepcopy(op.headers)
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {
            "required": op.body_required,
            "content": {"application/json": {"schema": components.add(op.body)}},
        }
    responses = {str(status): _reply(r, components) for status, r in op.replies.items()}
    error = components.add(Error)
    for status in op.errors:
        responses[str(status)] = {
            "description": _ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": dict(error)}},
        }
    out["responses"] = responses
    return out


def build_document() -> dict[str, Any]:
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = _build()
    return copy.deepcopy(_DOCUMENT)


def _build() -> dict[str, Any]:
    components = _Components()
    components.add(Error)
    paths = {
        path: {method: _render(op, components) for method, op in methods.items()}
        for path, methods in _OPERATIONS.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Ruta API",
            "version": "1",
            "description": "Screening, referrals, shelter intake and statistics (api.md).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components.schemas,
        },
    }


operation(
    "/openapi.json",
    "get",
    summary="This document",
    public=True,
    replies={200: Reply("OpenAPI document")},
    errors=(422,),
)
