"""Schemathesis fuzzing of /api/v1 against its own OpenAPI document (api.md §3).

Every operation of ``/api/v1/openapi.json`` is fuzzed in-process through the WSGI app,
with schema-conforming (positive) and schema-violating (negative) inputs, and each
response is checked: never a 5xx, a documented status code, and a body matching the
documented schema where one is documented. Path parameters are either generated or the
ids of real objects the fuzzing user can see (its own case, screening and referrals, a
referral addressed to its organization, an admission), so the handlers get past the
404 and into the services.

Bounded and deterministic: ``derandomize=True`` and MAX_EXAMPLES per operation and mode,
no deadline. Everything runs inside the ``db_tx`` transaction that is rolled back after
the test; ``test_fuzzing_leaves_nothing_behind`` checks from a separate connection that
nothing the fuzzer wrote was committed for real.
"""

from __future__ import annotations

import contextvars
import copy
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_api import ROSA

#: per operation and generation mode; RUTA_FUZZ_EXAMPLES=500 for a deeper run by hand
MAX_EXAMPLES = int(os.environ.get("RUTA_FUZZ_EXAMPLES", "20"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: 422s that no schema can predict, each a field and the start of its message: two values
#: compared with each other, or with what is stored (ADR 0018). A schema-valid request
#: refused for anything else -- or for one of these plus anything else -- is a failure.
RELATIONAL = (
    ("to", "must not be before from"),  # ?from= and ?to= of one report
    ("from", "the CTDC layout covers whole calendar years"),  # {layout} and the period
    ("to", "the CTDC layout covers whole calendar years"),
    ("provider", "no active "),  # a directory code, for this referral's service type
    ("provider", "not eligible for this person"),
    ("provider", "has no free capacity"),
    ("discharged_at", "is before the admission"),
    ("person.date_of_birth", "disagrees with"),  # an age that contradicts it (issue 14)
    ("person.age_years", "disagrees with"),
)


def _relational(response: Any) -> bool:
    if response.status_code != 422:
        return False
    fields = (response.json().get("error") or {}).get("fields") or {}
    return bool(fields) and all(
        any(name == f and m.startswith(start) for f, start in RELATIONAL)
        for name, messages in fields.items()
        for m in messages
    )


def positive_data_acceptance_but_relational(ctx: Any, response: Any, case: Any) -> bool | None:
    """``positive_data_acceptance``, except for the RELATIONAL refusals."""
    if _relational(response):
        return None
    return positive_data_acceptance(ctx, response, case)


#: Every built-in check (``schemathesis --checks all``; None = the enabled built-ins):
#: besides no 5xx and the documented statuses and bodies, schema-violating requests must
#: be refused and schema-valid ones accepted -- the document is the contract (ADR 0018).
CHECKS = None
EXCLUDED = [positive_data_acceptance]
ADDITIONAL = [positive_data_acceptance_but_relational]
#: the organization of the fuzzing users: an NGO women's shelter in Lima, so it both
#: refers (its own cases) and receives and admits (incoming referrals)
ORG = "ONG-REF-LIM-W"


class IsolatedWSGI:
    """Each request in a fresh context, as in production (see conftest.IsolatedClient):
    otherwise requests would share the test's app context, ``g`` and the cached user."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return contextvars.Context().run(self.app, environ, start_response)


@dataclass
class Tally:
    operations: set[str] = field(default_factory=set)
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    nothing_to_negate: set[str] = field(default_factory=set)

    def summary(self) -> str:
        spread = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{len(self.operations)} operations, {self.calls} requests ({spread}); "
            f"{len(self.nothing_to_negate)} without negative cases (a path id only)"
        )


def _has_inputs(operation: Any) -> bool:
    """A body, or a query or header parameter: something a negative case can break."""
    raw = operation.definition.raw
    return "requestBody" in raw or any(
        p.get("in") in ("query", "header") for p in raw.get("parameters", [])
    )


@pytest.fixture
def world(app: Any, api: Any) -> dict[str, Any]:
    """Real objects the fuzzing supervisor can see, and tokens for both roles."""
    supervisor = api("supervisor", ORG)
    own = supervisor.post("/api/v1/screenings", json=ROSA | {"region": "1501"})
    assert own.status_code == 201, own.json
    # a referral addressed to ORG by another organization: accepted, then admitted
    sender = api("screener", "ONG-REF-TUM-W")
    body = copy.deepcopy(MARIA)
    body["consent"] = {"given": True, "scope": ["all"]}
    incoming = sender.post("/api/v1/screenings", json=body).json
    shelter = referral_of(incoming, "ngo_shelter")
    assert shelter["provider"]["code"] == ORG
    assert sender.post(f"/api/v1/referrals/{shelter['id']}/send").status_code == 200
    # and a second one left in "sent", for accept/decline to act on
    pending = referral_of(sender.post("/api/v1/screenings", json=body).json, "ngo_shelter")
    assert sender.post(f"/api/v1/referrals/{pending['id']}/send").status_code == 200
    assert supervisor.post(f"/api/v1/referrals/{shelter['id']}/accept").status_code == 200
    admission = supervisor.post("/api/v1/admissions", json={"referral_id": shelter["id"]})
    assert admission.status_code == 201, admission.json
    statistician = api("statistician")
    doc = own.json
    return {
        "supervisor": supervisor.token,
        "statistician": statistician.token,
        "ids": {
            "case_id": [doc["case_id"]],
            "screening_id": [doc["id"]],
            "referral_id": [r["id"] for r in doc["referrals"]] + [shelter["id"], pending["id"]],
            "admission_id": [admission.json["id"]],
            "layout": ["unodc_glotip", "inei", "ctdc"],
        },
    }


def _strategy(operation: Any, mode: GenerationMode, ids: dict[str, list[str]]) -> Any:
    """Half the cases with generated path parameters, half with the id of a real object."""
    generated = operation.as_strategy(mode)
    real = [
        operation.as_strategy(mode, path_parameters={p.name: value})
        for p in operation.path_parameters
        for value in ids.get(p.name, [])
    ]
    return st.one_of(generated, st.one_of(*real)) if real else generated


def fuzz(app: Any, token: str, ids: dict[str, list[str]], wanted: Callable[[Any], bool]) -> Tally:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", IsolatedWSGI(app))
    # the token comes from the test (below), not from generated security parameters: a
    # negative case "without Authorization" would otherwise be sent with it
    schema.config.generation.update(with_security_parameters=False)
    headers = {"Authorization": f"Bearer {token}"}
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        if not wanted(operation):
            continue
        tally.operations.add(operation.label)
        for mode in MODES:

            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=_strategy(operation, mode, ids))
            def run(case: Any) -> None:
                response = case.call(headers=headers)
                tally.calls += 1
                status = response.status_code
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                case.validate_response(
                    response,
                    checks=CHECKS,
                    excluded_checks=EXCLUDED,
                    additional_checks=ADDITIONAL,
                    headers=headers,
                )

            try:
                run()
            except Unsatisfiable as exc:
                # Only a path id to vary, which no request can break but with a NUL (a 404
                # that schemathesis cannot send): nothing schema-violating to send.
                if mode is GenerationMode.NEGATIVE and not _has_inputs(operation):
                    tally.nothing_to_negate.add(operation.label)
                else:
                    tally.failures[f"{operation.label} [{mode.value}]"] = str(exc)[:4000]
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect them all
                # Hypothesis attaches the falsifying example as a note
                notes = "\n".join(getattr(exc, "__notes__", []))
                text = f"{type(exc).__name__}: {exc}\n{notes}"
                tally.failures[f"{operation.label} [{mode.value}]"] = text[:4000]
    return tally


def _report(role: str, tally: Tally) -> None:
    print(f"\nschemathesis as {role}: {tally.summary()}")
    assert not tally.failures, "\n\n".join(
        f"=== {name}\n{text}" for name, text in sorted(tally.failures.items())
    )


def test_every_operation_as_a_supervisor(app: Any, world: dict[str, Any]) -> None:
    tally = fuzz(app, world["supervisor"], world["ids"], lambda op: True)
    assert len(tally.operations) >= 20  # the whole API, reports included when present
    assert tally.calls >= len(tally.operations) * len(MODES) * 10
    assert 201 in tally.statuses and 200 in tally.statuses  # it got past validation
    _report("supervisor", tally)


def test_read_operations_as_a_statistician(app: Any, world: dict[str, Any]) -> None:
    tally = fuzz(app, world["statistician"], world["ids"], lambda op: op.method.upper() == "GET")
    assert tally.statuses.get(403), "case data must be refused to statisticians"
    _report("statistician", tally)


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("users", "cases", "screenings", "referrals", "audit_events")
            }
    finally:
        engine.dispose()


def test_fuzzing_leaves_nothing_behind(app: Any, database_url: str, world: dict[str, Any]) -> None:
    """Everything the fuzzer (and the fixture) wrote stays inside the test's transaction:
    another connection sees none of it, so no other test can."""
    outside_before = _counts(database_url)
    tally = fuzz(
        app,
        world["supervisor"],
        world["ids"],
        lambda op: op.label in {"POST /screenings", "PATCH /cases/{case_id}"},
    )
    assert tally.statuses.get(201) and not tally.failures
    from caseapp.extensions import db

    inside = {
        table: db.session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        for table in outside_before
    }
    assert inside["screenings"] > outside_before["screenings"]  # the fuzzer did write…
    assert _counts(database_url) == outside_before  # …but nothing escaped the transaction
