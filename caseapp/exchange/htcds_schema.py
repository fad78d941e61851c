"""The JSON shape of an HTCDS 2.0 exchange file (docs/exchange.md), as a JSON Schema.

HTCDS publishes its fields as a spreadsheet and a field reference, not as a JSON Schema;
this is the documented JSON shape Ruta reads and writes, its picklists taken from the
crosswalks of :mod:`caseapp.core.htcds` (one source). The ``ruta`` extension is checked
here only as an object: the screening contract (pydantic) validates its content.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from caseapp.core import htcds

MAX_CASES = 200_000


def _pick(crosswalk: htcds.Crosswalk, *, nullable: bool = True) -> dict[str, Any]:
    values: list[Any] = sorted(crosswalk.htcds_values)
    return {"enum": [*values, None] if nullable else values}


def _many(crosswalk: htcds.Crosswalk) -> dict[str, Any]:
    return {"type": "array", "items": {"enum": sorted(crosswalk.htcds_values)}}


_TEXT = {"type": ["string", "null"], "maxLength": 500}
_DATE = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}


def schema() -> dict[str, Any]:
    person = {
        "type": "object",
        "properties": {
            "FirstName": _TEXT,
            "SecondName": _TEXT,
            "Birthdate": _DATE,
            "Gender": _pick(htcds.GENDER),
            "Citizenship": {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
            "PrimaryLanguage": {"type": ["string", "null"]},
            "SecondaryLanguage": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    }
    victim = {
        "type": "object",
        "properties": {
            "MethodOfRecruitment": _many(htcds.METHOD_OF_RECRUITMENT),
            "MethodsOfControl": _many(htcds.METHODS_OF_CONTROL),
            "TypeOfExploitation": _many(htcds.TYPE_OF_EXPLOITATION),
            "ForcedLabourIndustry": _pick(htcds.FORCED_LABOUR_INDUSTRY),
            "RelationshipToTrafficker": _pick(htcds.RELATIONSHIP_TO_TRAFFICKER),
        },
        "additionalProperties": False,
    }
    event = {
        "type": "object",
        "required": ["Type"],
        "properties": {
            "Type": {"enum": list(htcds.EVENT_TYPES)},
            "Country": {"type": ["string", "null"], "pattern": "^[A-Z]{2}$"},
            "State": _TEXT,
            "City": _TEXT,
            "Date": _DATE,
            "Description": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
    }
    referral = {
        "type": "object",
        "properties": {
            "ReferredOrganisation": _TEXT,
            "ReferredOrganisationName": _TEXT,
            "OutgoingReferralDate": _DATE,
            "ReasonForOutgoingReferral": {
                "enum": ["AdditionalServicesRequired", "MigrationOrChangeOfLocation", "Other", None]
            },
            "OutgoingReferralDetails": {"type": ["string", "null"]},
            "ruta": {"type": "object"},
        },
        "additionalProperties": False,
    }
    case = {
        "type": "object",
        "required": ["CaseId", "Person", "Victim"],
        "properties": {
            "CaseId": {"type": "string", "minLength": 1, "maxLength": 100},
            "Status": _pick(htcds.CASE_STATUS),
            "CaseOwner": _TEXT,
            "TraffickingStatus": _pick(htcds.TRAFFICKING_STATUS),
            "TraffickingStatusDecisionMakingOrganisation": _pick(htcds.ORGANISATION_TYPE),
            "IdentificationDate": _DATE,
            "Region": {"type": ["string", "null"]},
            "Person": person,
            "Victim": victim,
            "HistoricTraffickingEvents": {"type": "array", "items": event},
            "OutgoingReferrals": {"type": "array", "items": referral},
            "ruta": {
                "type": "object",
                "required": ["screening"],
                "properties": {
                    "screening": {"type": "object"},
                    "case_status": {"enum": ["open", "closed"]},
                },
            },
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ruta.example/schemas/htcds-2.0-exchange.json",
        "title": "HTCDS 2.0 case exchange file (Ruta)",
        "type": "object",
        "required": ["standard", "version", "cases"],
        "properties": {
            "standard": {"const": "HTCDS"},
            "version": {"const": htcds.HTCDS_VERSION},
            "extension": {"type": ["string", "null"]},
            "generated_at": {"type": ["string", "null"]},
            "organisation": {"type": ["object", "null"]},
            "cases": {"type": "array", "items": case, "maxItems": MAX_CASES},
        },
        "additionalProperties": False,
    }


@cache
def validator() -> Draft202012Validator:
    built = schema()
    Draft202012Validator.check_schema(built)
    return Draft202012Validator(built)


def json_path(error: ValidationError) -> str:
    """``cases[3].Person.Gender``: where the problem is, as the importer reports it."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    if error.validator == "required" and isinstance(error.validator_value, list):
        missing = [
            k
            for k in error.validator_value
            if isinstance(error.instance, dict) and k not in error.instance
        ]
        if missing:
            out = f"{out}.{missing[0]}" if out else missing[0]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed)
        if extra:
            out = f"{out}.{extra[0]}" if out else extra[0]
    return out or "(file)"


def problems(document: Any) -> Iterator[tuple[str, str]]:
    """Every shape problem of an HTCDS file as (path, message)."""
    for error in sorted(validator().iter_errors(document), key=lambda e: list(map(str, e.path))):
        yield json_path(error), _message(error)


def _message(error: ValidationError) -> str:
    if error.validator == "required":
        return "required"
    if error.validator == "additionalProperties":
        return "unknown field"
    if error.validator == "enum":
        return f"unknown value {error.instance!r}"
    return error.message
