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
from schemathesis import GenerationMode

from tests.integration.test_referral_lifecycle import MARIA, referral_of
from tests.integration.test_screening_api import ROSA

#: per operation and generation mode; RUTA_FUZZ_EXAMPLES=500 for a deeper run by hand
MAX_EXAMPLES = int(os.environ.get("RUTA_FUZZ_EXAMPLES", "20"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
#: None = every built-in check (``schemathesis --checks all``): besides no 5xx and the
#: documented statuses and bodies, schema-valid requests must be accepted and
#: schema-violating ones refused -- the document is the contract (ADR 0018)
CHECKS = None
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

    def summary(self) -> str:
        spread = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return f"{len(self.operations)} operations, {self.calls} requests ({spread})"


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
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                run()
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
