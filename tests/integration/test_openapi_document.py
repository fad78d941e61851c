"""The OpenAPI document is generated from the request models (ADR 0018): it names every
/api/v1 route, and its request schemas are the models that validate the requests."""

from __future__ import annotations

import re
from typing import Any


def _routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        out |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def test_every_route_is_documented_and_nothing_else(app, client):
    doc = client.get("/api/v1/openapi.json").json
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert documented == _routes(app)


def test_request_bodies_are_closed_and_every_text_refuses_nul(client):
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    bodies = [
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for ops in doc["paths"].values()
        for op in ops.values()
        if "requestBody" in op
    ]
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    without_body = {(p, m) for p, m, op in operations if m != "get" and "requestBody" not in op}
    assert without_body == {
        ("/referrals/{referral_id}/accept", "post"),
        ("/referrals/{referral_id}/complete", "post"),
    }
    for name in bodies:
        assert schemas[name]["additionalProperties"] is False, name
    params = [
        p for ops in doc["paths"].values() for op in ops.values() for p in op.get("parameters", [])
    ]
    for param in params:
        schema = param["schema"]
        if schema.get("type") == "string" and "enum" not in schema:
            assert not re.search(schema["pattern"], "a\x00"), param["name"]


def test_the_cancel_reasons_are_the_code_list(client):
    from caseapp.core import codes

    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["CancelRequest"]
    assert schema["properties"]["reason"]["enum"] == list(codes.get("cancel_reason").codes)
    assert schema["required"] == ["reason"]
