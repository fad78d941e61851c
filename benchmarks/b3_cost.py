"""B3C — what one screening costs, counted rather than timed under load.

B3's requests per second depend on everything else the machine runs; this benchmark
counts what one ``POST`` costs, so that a change can be judged on a busy machine. It posts
``requests`` varied screenings (``payloads``) one after another through the production
WSGI app in this process (Flask test client: routing, guard, authentication, contract,
service, SQL, the audit append, the commit, the JSON answer or the redirect), on each
path:

- ``api``: ``POST /api/v1/screenings`` with a screener's bearer token (as B3 posts);
- ``web``: ``POST /screenings/new``, the same facts as a browser posts the form (signed
  in, CSRF token, a fresh ``submission_id`` each time, so the idempotency claim too).

and measures, per screening:

- the app's CPU: ``time.process_time()`` of this process around the request (the test
  client's own few tenths of a millisecond included; gunicorn's HTTP parsing is not);
- PostgreSQL's CPU: user + system time of the session's backend process, read from
  ``/proc/<pid>/stat`` (``SELECT pg_backend_pid()`` when the pool connects) before and
  after each round: what the server spends parsing, planning, executing, writing WAL
  and committing for this session. Background work (WAL writer, checkpointer,
  autovacuum) is not included;
- statements: SQL statements sent (SQLAlchemy ``before_cursor_execute``; a multi-row
  ``INSERT … VALUES`` is one), plus the transaction's ``COMMIT``;
- the ceiling this implies on this machine: cores × 1000 ms / (app + database ms), the
  requests per second that the cores could serve if nothing else ran and the server
  added nothing.

Every response is checked (201 with an id, 303 to the result page).
"""

from __future__ import annotations

import gc
import os
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks import payloads

BASE = "https://localhost"
PATHS = ("api", "web")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# -- the form a browser posts ----------------------------------------------------------------


def _tri(value: bool | None) -> str:
    return {True: "yes", False: "no", None: ""}[value]


def form_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``/screenings/new`` a browser sends for the API body ``body``
    (``payloads.screening``): what a screener types and ticks for the same facts."""
    person = body["person"]
    document = person.get("document") or {}
    context = body["context"]
    consent = body.get("consent")
    out: dict[str, Any] = {
        # the payload's time is already in Lima; the form has minutes, no offset
        "identified_at": body["identified_at"][:16],
        "region": body["region"],
        "identification_context": body["identification_context"] or "",
        "person_given_names": person["given_names"],
        "person_family_names": person["family_names"],
        "person_sex": person["sex"],
        "person_gender_identity": person["gender_identity"] or "",
        "person_lgbtqi": _tri(person["lgbtqi"]),
        "person_date_of_birth": person["date_of_birth"] or "",
        "person_age_years": "" if person["age_years"] is None else str(person["age_years"]),
        "person_appears_minor": _tri(person["appears_minor"]),
        "person_nationality": list(person["nationality"]),
        "person_nationality_other": "",
        "person_document_type": document.get("type") or "",
        "person_document_number": document.get("number") or "",
        "person_languages": list(person["languages"]),
        "person_migration_status": person["migration_status"] or "",
        "person_contact": person["contact"] or "",
        "person_address": person["address"] or "",
        "acts": list(body["acts"]),
        "means": list(body["means"]),
        "purposes": list(body["purposes"]),
        "indicators": list(body["indicators"]),
        "context_origin_region": context["origin_region"] or "",
        "context_exploitation_region": context["exploitation_region"] or "",
        "context_sector": context["sector"] or "",
        "context_trafficker_relation": context["trafficker_relation"] or "",
        "context_recruitment_method": context["recruitment_method"] or "",
        "needs": list(body["needs"]),
        "consent_given": "" if consent is None else _tri(consent["given"]),
        "consent_given_by": (consent or {}).get("given_by") or "person",
        "consent_method": (consent or {}).get("method") or "verbal",
        "notes": body["notes"] or "",
    }
    for name in ("age_estimated", "pregnant", "disability", "unaccompanied"):
        if person[name]:
            out[f"person_{name}"] = "y"
    for name in (
        "public_official_involved",
        "multiple_victims",
        "criminal_organization",
        "serious_injury_or_death",
    ):
        if context[name]:
            out[f"context_{name}"] = "y"
    if body["stated_consent"]:
        out["stated_consent"] = "y"
    return out


# -- what PostgreSQL spent -------------------------------------------------------------------


def backend_cpu_seconds(pid: int, proc: Path = Path("/proc")) -> float:
    """User + system CPU seconds of a (PostgreSQL backend) process, from its stat file."""
    text = (proc / str(pid) / "stat").read_text()
    # the command name (field 2) is in parentheses and may hold spaces: split after it
    rest = text[text.rindex(")") + 2 :].split()
    utime, stime = int(rest[11]), int(rest[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / _CLOCK_TICKS


@dataclass
class Probe:
    """Counts the statements the app's engine sends and knows its backends' pids."""

    statements: int = 0
    commits: int = 0
    pids: set[int] = field(default_factory=set)

    def attach(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "connect", self._connect)
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)
        engine.dispose()  # the next connection is a new one, whose pid ``_connect`` reads

    def _connect(self, dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT pg_backend_pid()")
            self.pids.add(int(cursor.fetchone()[0]))
        finally:
            cursor.close()
        dbapi_connection.commit()

    def _statement(self, *_args: Any) -> None:
        self.statements += 1

    def _commit(self, *_args: Any) -> None:
        self.commits += 1

    def database_cpu(self) -> float:
        total = 0.0
        for pid in self.pids:
            try:
                total += backend_cpu_seconds(pid)
            except (OSError, ValueError, IndexError):
                continue  # a connection closed since (its time is then lost: reported)
        return total


# -- one round ----------------------------------------------------------------------------


@dataclass
class Round:
    path: str
    requests: int
    app_cpu: float  # seconds, this process
    db_cpu: float  # seconds, the backends
    wall: float  # seconds
    statements: int
    commits: int
    per_request_statements: list[int]
    backends: int

    @property
    def app_ms(self) -> float:
        return self.app_cpu * 1000 / self.requests

    @property
    def db_ms(self) -> float:
        return self.db_cpu * 1000 / self.requests

    @property
    def cpu_ms(self) -> float:
        return self.app_ms + self.db_ms

    @property
    def wall_ms(self) -> float:
        return self.wall * 1000 / self.requests

    @property
    def statements_per_request(self) -> float:
        return self.statements / self.requests

    @property
    def commits_per_request(self) -> float:
        return self.commits / self.requests

    def implied_rps(self, cores: int) -> float:
        return cores * 1000 / self.cpu_ms if self.cpu_ms else float("nan")


Poster = Callable[[dict[str, Any]], None]


def api_poster(client: Any, token: str) -> Poster:
    headers = {"Authorization": f"Bearer {token}"}

    def post(body: dict[str, Any]) -> None:
        response = client.post("/api/v1/screenings", json=body, headers=headers, base_url=BASE)
        if response.status_code != 201 or not (response.get_json() or {}).get("id"):
            raise RuntimeError(
                f"POST /api/v1/screenings: {response.status_code} "
                f"{response.get_data(as_text=True)[:500]}"
            )

    return post


def sign_in(client: Any, email: str, password: str) -> str:
    """Sign in through the page; returns the session's CSRF token."""
    page = client.get("/login", base_url=BASE)
    match = _CSRF.search(page.get_data(as_text=True))
    if match is None:
        raise RuntimeError("no CSRF token on /login")
    response = client.post(
        "/login",
        base_url=BASE,
        headers={"Referer": f"{BASE}/login"},  # HTTPS: Flask-WTF checks the Referer
        data={"csrf_token": match.group(1), "email": email, "password": password},
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    form = client.get("/screenings/new", base_url=BASE)
    match = _CSRF.search(form.get_data(as_text=True))
    if form.status_code != 200 or match is None:
        raise RuntimeError(f"GET /screenings/new: {form.status_code}")
    return match.group(1)


def web_poster(client: Any, csrf_token: str) -> Poster:
    headers = {"Referer": f"{BASE}/screenings/new"}

    def post(body: dict[str, Any]) -> None:
        data = {
            **form_fields(body),
            "csrf_token": csrf_token,
            "submission_id": secrets.token_urlsafe(24),  # a new form each time
        }
        response = client.post("/screenings/new", data=data, headers=headers, base_url=BASE)
        location = response.headers.get("Location", "")
        if response.status_code != 303 or "/screenings/" not in location:
            raise RuntimeError(
                f"POST /screenings/new: {response.status_code} "
                f"{response.get_data(as_text=True)[:2000]}"
            )

    return post


def measure_round(path: str, post: Poster, probe: Probe, bodies: list[dict[str, Any]]) -> Round:
    per_request: list[int] = []
    # a round does not pay for the previous one's garbage; the collector stays on (its
    # cost during the round is part of a request's)
    gc.collect()
    statements0, commits0 = probe.statements, probe.commits
    db0 = probe.database_cpu()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for body in bodies:
        before = probe.statements
        post(body)
        per_request.append(probe.statements - before)
    cpu1, wall1 = time.process_time(), time.perf_counter()
    db1 = probe.database_cpu()
    return Round(
        path=path,
        requests=len(bodies),
        app_cpu=cpu1 - cpu0,
        db_cpu=db1 - db0,
        wall=wall1 - wall0,
        statements=probe.statements - statements0,
        commits=probe.commits - commits0,
        per_request_statements=per_request,
        backends=len(probe.pids),
    )


def run(
    app: Any,
    token: str,
    email: str,
    password: str,
    *,
    rounds: int,
    requests: int,
    log: Callable[[str], None],
    seed: int = 1,
    warmup: int = 10,
) -> dict[str, list[Round]]:
    """``rounds`` rounds of ``requests`` screenings per path, the paths alternating."""
    from caseapp.extensions import db

    probe = Probe()
    with app.app_context():
        probe.attach(db.engine)
    api = app.test_client()
    web = app.test_client()
    posters = {"api": api_poster(api, token), "web": web_poster(web, sign_in(web, email, password))}
    rng = random.Random(seed)
    for path in PATHS:  # warm: caches, the pool's connection, first-call imports
        for _ in range(warmup):
            posters[path](payloads.screening(rng))
    if len(probe.pids) != 1:
        log(f"  note: {len(probe.pids)} backends served the warm-up")
    out: dict[str, list[Round]] = {p: [] for p in PATHS}
    for i in range(rounds):
        for path in PATHS:
            bodies = [payloads.screening(rng) for _ in range(requests)]
            r = measure_round(path, posters[path], probe, bodies)
            out[path].append(r)
            log(
                f"  {path} round {i + 1}: app {r.app_ms:.1f} ms + db {r.db_ms:.1f} ms CPU, "
                f"{r.statements_per_request:.1f} statements + {r.commits_per_request:.0f} "
                f"commit, wall {r.wall_ms:.1f} ms → ≤ {r.implied_rps(cores()):.0f} req/s "
                f"on {cores()} cores"
            )
    return out


def cores() -> int:
    return os.cpu_count() or 1
