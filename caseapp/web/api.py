"""OpenAPI document of /api/v1 (each feature contributes its paths)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from caseapp.core.api import api
from caseapp.core.openapi import build_document
from caseapp.core.security import public


@api.get("/openapi.json")
@public
def openapi() -> Any:
    return jsonify(build_document())
