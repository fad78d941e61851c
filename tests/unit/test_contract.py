"""The request contract (caseapp.core.contract, ADR 0018): one pydantic model per request
shape validates the request *and* is its JSON schema, so both must give the same verdict.

Each table row is a request; the server's verdict (``parse``) and the published schema's
verdict (jsonschema_rs on ``model_json_schema()``) must agree, and refusals name the field
paths and messages of api.md §3.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest

from caseapp.core import codes
from caseapp.core.contract import Contract, Paged, field_errors, parse, query_args
from caseapp.core.errors import ValidationFailed
from caseapp.screening.schema import (
    CasePatch,
    CaseQuery,
    ConsentRequest,
    OverrideRequest,
    ScreeningRequest,
    parse_screening,
)
from tests.integration.test_screening_api import ROSA

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
#: a request the documented patterns call valid whatever the clock says (2001..last year)
DOCUMENTED = copy.deepcopy(ROSA) | {"identified_at": "2025-03-14T22:30:00-05:00"}


def verdicts(model: type[Contract], body: Any, **context: Any) -> tuple[bool, bool]:
    """(server accepts, schema accepts)."""
    schema = jsonschema_rs.Draft202012Validator(model.model_json_schema())
    try:
        parse(model, body, **context)
        server = True
    except ValidationFailed:
        server = False
    return server, schema.is_valid(body)


def refused(model: type[Contract], body: Any, **context: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse(model, body, **context)
    return caught.value.fields


def screening(change: Any) -> dict[str, Any]:
    body = copy.deepcopy(DOCUMENTED)
    change(body)
    return body


# -- messages and paths (api.md §3) ------------------------------------------------------


def test_every_bad_field_is_named_by_its_path_with_the_current_messages() -> None:
    def change(b: dict[str, Any]) -> None:
        b["person"].update(sex="X", nationality=["PER", "XXX"], givenname="Rosa")
        b["acts"] = ["recruitment", "transport", "kidnapping"]
        b.pop("region")
        b["notes"] = 5

    fields = refused(ScreeningRequest, screening(change), now=NOW)
    assert fields == {
        "person.sex": ["unknown code 'X' (see codes.md: sex)"],
        "person.nationality[1]": ["unknown code 'XXX' (see codes.md: nationality)"],
        "person.givenname": ["unknown field"],
        "acts[2]": ["unknown code 'kidnapping' (see codes.md: act)"],
        "region": ["required"],
        "notes": ["must be text"],
    }


def test_the_422_body_is_the_api_md_error_document() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_screening(screening(lambda b: b.update(region=None)), now=NOW)
    assert caught.value.as_json() == {
        "error": {
            "code": "validation_failed",
            "message": "Invalid fields: region",
            "fields": {"region": ['required (use "unknown" when not known)']},
        }
    }


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            lambda b: b["person"].update(document={"type": "dni"}),
            "person.document.number",
            "required when a document type is given",
        ),
        (
            lambda b: b["person"].update(document={"type": "none", "number": "123"}),
            "person.document.number",
            'must be empty when the type is "none"',
        ),
        (
            lambda b: b["person"].update(date_of_birth="2026-01-01"),
            "person.date_of_birth",
            "is after the date of identification",
        ),
        (lambda b: b.update(person=[]), "person", "must be an object"),
        (
            lambda b: b.update(consent={"given": True, "scope": ["all", "legal_aid_minjusdh"]}),
            "consent.scope",
            'use ["all"] alone or a list of service types',
        ),
        (
            lambda b: b.update(consent={"given": True, "scope": []}),
            "consent.scope",
            'name at least one service type, or ["all"]',
        ),
        (
            lambda b: b.update(identified_at="2026-03-14T22:30:00"),
            "identified_at",
            "must be a date-time with offset, e.g. 2026-03-14T22:30:00-05:00",
        ),
        (lambda b: b.update(notes="a\x00b"), "notes", "must not contain NUL characters (U+0000)"),
        (lambda b: b["person"].update(age_years=True), "person.age_years", None),
    ],
    ids=[
        "number with type",
        "number with none",
        "born after identification",
        "person not an object",
        "all not alone",
        "empty scope",
        "no offset",
        "NUL",
        "boolean age",
    ],
)
def test_cross_field_rules_keep_their_paths_and_messages(
    change: Any, path: str, message: str | None
) -> None:
    fields = refused(ScreeningRequest, screening(change), now=NOW)
    assert list(fields) == [path]
    if message:
        assert fields[path] == [message]


def test_the_parsed_request_is_typed_deduplicated_and_defaulted() -> None:
    body = screening(lambda b: b.update(acts=["transport", "transport"], context=None))
    del body["identified_at"]
    data = parse_screening(body, now=NOW)
    assert data.identified_at == NOW
    assert data.acts == ("transport",)
    assert data.context is not None and data.context.sector is None
    assert data.person.document is not None and data.person.document.number == "71234567"
    consent = parse(ConsentRequest, {"given": False, "scope": []})
    assert consent.scope == ("all",) and consent.given_by == "person"


# -- the schema says what the server does -------------------------------------------------

AGREE = [
    ("valid", lambda b: None, True),
    ("document number with a type", lambda b: b["person"].update(document={"type": "dni"}), False),
    (
        "document none without number",
        lambda b: b["person"].update(document={"type": "none", "number": None}),
        True,
    ),
    (
        "document none with a number",
        lambda b: b["person"].update(document={"type": "none", "number": "1"}),
        False,
    ),
    ("document type null", lambda b: b["person"].update(document={"type": None}), False),
    ("blank number", lambda b: b["person"].update(document={"type": "dni", "number": "  "}), False),
    ("languages null", lambda b: b["person"].update(languages=None), True),
    ("NUL in a name", lambda b: b["person"].update(given_names="a\x00"), False),
    ("unknown region", lambda b: b.update(region="99"), False),
    ("region null", lambda b: b.update(region=None), False),
    ("consent all alone", lambda b: b.update(consent={"given": True, "scope": ["all"]}), True),
    (
        "consent all and more",
        lambda b: b.update(consent={"given": True, "scope": ["all", "legal_aid_minjusdh"]}),
        False,
    ),
    ("consent empty scope", lambda b: b.update(consent={"given": True, "scope": []}), False),
    (
        "refusal with empty scope",
        lambda b: b.update(consent={"given": False, "scope": []}),
        True,
    ),
    ("consent without given", lambda b: b.update(consent={}), False),
    ("context not an object", lambda b: b.update(context=[]), False),
    ("context null", lambda b: b.update(context=None), True),
    ("age as text", lambda b: b["person"].update(age_years="16"), False),
    ("age 121", lambda b: b["person"].update(age_years=121), False),
    ("space-separated date-time", lambda b: b.update(identified_at="2025-03-14 22:30:00Z"), False),
    ("minutes only", lambda b: b.update(identified_at="2025-03-14T22:30-05:00"), True),
    ("basic format", lambda b: b.update(identified_at="20250314T223000-0500"), False),
    # (no age beside it: an age that contradicts the date is a relational refusal)
    ("leap day", lambda b: b["person"].update(date_of_birth="2000-02-29", age_years=None), True),
    ("30 February", lambda b: b["person"].update(date_of_birth="2000-02-30"), False),
    ("notes too long", lambda b: b.update(notes="x" * 10_001), False),
]


@pytest.mark.parametrize(("change", "accepted"), [r[1:] for r in AGREE], ids=[r[0] for r in AGREE])
def test_server_and_schema_agree_on_screenings(change: Any, accepted: bool) -> None:
    assert verdicts(ScreeningRequest, screening(change), now=NOW) == (accepted, accepted)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"status": "possible", "justification": "a" * 10}, True),
        ({"status": "possible", "justification": "  a" + " " * 20 + "b  "}, True),
        ({"status": "possible", "justification": " " * 12}, False),
        ({"status": "possible", "justification": "abc" + " " * 10}, False),
        ({"status": "maybe", "justification": "a" * 10}, False),
        ({"status": "possible", "justification": "a" * 5001}, False),
    ],
)
def test_server_and_schema_agree_on_overrides(body: dict[str, Any], accepted: bool) -> None:
    assert verdicts(OverrideRequest, body) == (accepted, accepted)


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({"version": 3}, True),
        ({"version": True}, False),
        ({"version": 3, "person": None}, False),
        ({"version": 3, "person": {"document": None, "languages": None}}, True),
        ({"version": 3, "status": "archived"}, False),
        ({"version": 3, "person": {"document": {"type": "dni", "number": "1"}}}, True),
    ],
)
def test_server_and_schema_agree_on_case_patches(body: dict[str, Any], accepted: bool) -> None:
    assert verdicts(CasePatch, body) == (accepted, accepted)


def test_code_lists_come_from_the_codes_module() -> None:
    schema = ScreeningRequest.model_json_schema()
    person = schema["$defs"]["PersonInput"]["properties"]
    assert person["sex"]["enum"] == list(codes.get("sex").codes)
    assert schema["properties"]["acts"]["items"]["enum"] == list(codes.get("act").codes)


def test_every_text_field_of_every_request_refuses_nul_in_its_schema() -> None:
    def strings(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") in ("string", ["string", "null"]) else []
            return found + [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for v in node for s in strings(v)]
        return []

    for model in (ScreeningRequest, OverrideRequest, CasePatch, CaseQuery):
        for node in strings(model.model_json_schema()):
            assert "enum" in node or "pattern" in node, (model.__name__, node)
            if "pattern" in node:
                for text in ("\x00", "2025-01-01\x00", "a" * 12 + "\x00"):
                    assert not re.search(node["pattern"], text), node


# -- query parameters ---------------------------------------------------------------------


class _Page(Paged):
    pass


def test_a_query_parameter_given_twice_is_refused() -> None:
    class Args(dict[str, list[str]]):
        def getlist(self, key: str) -> list[str]:
            return self[key]

    fields = refused(_Page, query_args(Args(per_page=["1", "2"], page=["3"])))
    assert list(fields) == ["per_page"]


def test_query_filters_blank_means_not_given_and_unknown_parameters_are_named() -> None:
    assert parse(CaseQuery, {"status": "", "region": "", "q": "  "}).model_dump() == {
        "status": None,
        "region": None,
        "determination": None,
        "q": None,
    }
    fields = refused(CaseQuery, {"status": "archived", "sort": "x"})
    assert fields == {"status": ["must be open or closed"], "sort": ["unknown parameter"]}
    assert refused(_Page, {"page": "0", "per_page": "1.5"}) == {
        "page": ["must be an integer from 1 to 1000000"],
        "per_page": ["must be an integer from 1 to 100"],
    }


def test_field_errors_without_a_path_name_the_whole_body() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        ScreeningRequest.model_validate([])
    assert field_errors(caught.value) == {"$": ["must be an object"]}


# -- forms build their bodies from the same models ----------------------------------------


def test_a_form_body_is_read_from_the_model_fields() -> None:
    from types import SimpleNamespace

    from caseapp.intake.forms import payload_of

    def inputs(**values: Any) -> SimpleNamespace:
        return SimpleNamespace(**{k: SimpleNamespace(data=v) for k, v in values.items()})

    form = inputs(
        identified_at="2025-03-14T22:30",
        region="17",
        person_sex="F",
        person_age_years="16",
        person_lgbtqi="",
        person_nationality=["PER", "PER"],
        person_document_type="dni",
        person_document_number=" 71234567 ",
        person_pregnant=None,
        acts=["recruitment"],
        means=[],
        purposes=["sexual_exploitation"],
        context_sector="",
        context_multiple_victims="y",
        notes="   ",
    )
    body = payload_of(ScreeningRequest, form)
    assert body == {
        "identified_at": "2025-03-14T22:30:00-05:00",
        "region": "17",
        "person": {
            "sex": "F",
            "age_years": 16,
            "nationality": ["PER"],
            "document": {"type": "dni", "number": "71234567"},
            "pregnant": False,
        },
        "acts": ["recruitment"],
        "means": [],
        "purposes": ["sexual_exploitation"],
        "context": {"multiple_victims": True},
    }
    parse_screening(body, now=NOW)  # and the model takes it
    # a required input left empty is sent as null, so its message names it
    assert payload_of(ScreeningRequest, inputs(region="", person_sex=""))["region"] is None
    # a PATCH sends every field it has (null clears); an empty document is null
    patch = payload_of(
        CasePatch,
        inputs(version="3", person_contact="", person_document_type="", person_languages=[]),
        clear=True,
    )
    assert patch == {
        "version": 3,
        "person": {"contact": None, "languages": [], "document": None},
    }
