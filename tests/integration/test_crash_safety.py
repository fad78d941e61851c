"""Crash safety: the production server is killed with SIGKILL in the middle of a burst of
screenings, and nothing acknowledged is lost and nothing is half-written.

The real thing, end to end: a fresh PostgreSQL database ``ruta_crash_safety_<pid>`` prepared
with the administration CLI (``db upgrade``, ``seed``, ``users create``, ``tokens
create``) in production mode with generated keys; ``gunicorn -w 2`` serving
``caseapp:create_app()`` on a free loopback port in its own process group; 8 threads
posting up to 200 screenings; the whole process group SIGKILLed once a quarter of them are
acknowledged. Then, from a fresh connection: every screening answered 201 exists with its
case, person, referrals and statistics fact; no case lacks its screening or its person;
the audit hash chain verifies. The figures are printed (``-s`` shows them).

PostgreSQL only, like ``TestOnPostgres`` in test_concurrency.py: the module is
**collected only when CASEAPP_TEST_DATABASE_URL points to PostgreSQL** (``__test__`` is
false otherwise, so it is not reported as skipped either); CI always sets it. Marked
``postgres``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.test_concurrency import create_database, drop_database
from tests.integration.test_screening_api import ROSA

TEST_DATABASE_URL = os.environ.get("CASEAPP_TEST_DATABASE_URL", "").strip()
__test__ = TEST_DATABASE_URL.startswith("postgresql")
pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE = f"ruta_crash_safety_{os.getpid()}"  # concurrent suite runs must not collide
REQUESTS = 200
THREADS = 8
KILL_AFTER = REQUESTS // 4  # acknowledged screenings before the SIGKILL
EMAIL = "crash@pnp-trata-mdd.test"


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Environment of a production deployment on a fresh database, prepared by the CLI."""
    url = create_database(DATABASE)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CASEAPP_")},
        "CASEAPP_ENV": "production",
        "CASEAPP_DATABASE_URL": url,
        "CASEAPP_INSTANCE_PATH": str(tmp_path_factory.mktemp("crash-instance")),
        "CASEAPP_SECRET_KEY": _key(),
        "CASEAPP_DATA_KEY": _key(),
        "CASEAPP_INDEX_KEY": _key(),
        "CASEAPP_AUDIT_KEY": _key(),
        "CASEAPP_AUDIT_SIGNING_KEY": _key(),
    }

    def flask(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "caseapp", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"flask {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        flask("db", "upgrade")
        flask("seed")
        flask(
            "users",
            "create",
            EMAIL,
            "--role",
            "screener",
            "--org",
            "PNP-TRATA-MDD",
            "--password-stdin",
            stdin=base64.b64encode(os.urandom(24)).decode() + "\n",
        )
        token = flask("tokens", "create", EMAIL).strip().splitlines()[-1]
        yield {"env": env, "url": url, "token": token, "flask": flask}
    finally:
        drop_database(DATABASE)


class Server:
    """gunicorn in its own process group, so one killpg takes master and workers."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.log_path = log
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "1",
                "caseapp:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"no answer from gunicorn:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and both workers) and reap it."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()


def body(n: int) -> dict[str, Any]:
    data = copy.deepcopy(ROSA)
    data["person"]["given_names"] = f"Persona {n}"
    data["person"]["document"] = {"type": "dni", "number": f"{70_000_000 + n}"}
    return data


def test_sigkill_mid_burst_loses_nothing_acknowledged_and_half_writes_nothing(
    production: dict[str, Any], tmp_path: Path
) -> None:
    server = Server(production["env"], tmp_path / "gunicorn.log")
    acknowledged: dict[str, dict[str, Any]] = {}
    failures: dict[str, int] = {}
    lock = threading.Lock()
    killed = threading.Event()
    sent = 0

    def post(n: int) -> None:
        nonlocal sent
        if killed.is_set():
            return
        with lock:
            sent += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request(
                "POST",
                "/api/v1/screenings",
                body=json.dumps(body(n)),
                headers={
                    "Authorization": f"Bearer {production['token']}",
                    "Content-Type": "application/json",
                },
            )
            response = conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
            return
        with lock:
            if response.status == 201:
                acknowledged[str(n)] = json.loads(payload)
            else:
                failures[f"HTTP {response.status}"] = failures.get(f"HTTP {response.status}", 0) + 1

    try:
        server.wait_ready()
        started = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(post, n) for n in range(REQUESTS)]
            while len(acknowledged) < KILL_AFTER and not all(f.done() for f in futures):
                time.sleep(0.005)
            server.kill()
            killed.set()
            at_kill = len(acknowledged)
            for future in futures:
                future.result(timeout=30)
        elapsed = time.monotonic() - started
    finally:
        if server.process.poll() is None:
            server.kill()

    assert at_kill >= KILL_AFTER and sent < REQUESTS, "the kill did not land mid-burst"
    report = check_database(production["env"], acknowledged)
    print(
        f"\ncrash test: sent {sent}, acknowledged {len(acknowledged)} "
        f"(kill after {at_kill}, {elapsed:.1f} s), found {report['found']}, "
        f"half-written {report['half_written']}, cases {report['cases']}, "
        f"client errors {dict(sorted(failures.items()))}, audit chain ok "
        f"({report['audit_events']} events)"
    )
    assert report["found"] == len(acknowledged)
    assert report["half_written"] == 0
    assert not [k for k in failures if k.startswith("HTTP 5")], failures


def check_database(env: dict[str, str], acknowledged: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Look at what survived, through a fresh app on the same database and keys."""
    from caseapp import create_app
    from caseapp.audit import services as audit
    from caseapp.extensions import db
    from caseapp.facts.models import ScreeningFact
    from caseapp.referrals.models import Referral
    from caseapp.screening.models import Case, Person, Screening

    overrides = {
        "ENV": "production",
        "DATABASE_URL": env["CASEAPP_DATABASE_URL"],
        "INSTANCE_PATH": env["CASEAPP_INSTANCE_PATH"],
        "SECRET_KEY": env["CASEAPP_SECRET_KEY"],
        "DATA_KEY": env["CASEAPP_DATA_KEY"],
        "INDEX_KEY": env["CASEAPP_INDEX_KEY"],
        "AUDIT_KEY": env["CASEAPP_AUDIT_KEY"],
        "AUDIT_SIGNING_KEY": env["CASEAPP_AUDIT_SIGNING_KEY"],
    }
    app = create_app(overrides)
    with app.app_context():
        try:
            found = 0
            for n, doc in acknowledged.items():
                screening = db.session.scalar(
                    sa.select(Screening).where(Screening.uuid == doc["id"])
                )
                assert screening is not None, f"acknowledged screening {doc['id']} is lost"
                assert screening.case.uuid == doc["case_id"]
                person = screening.case.person
                assert person is not None and person.given_names == f"Persona {n}"
                referral_ids = {r["id"] for r in doc["referrals"]}
                stored = set(
                    db.session.scalars(
                        sa.select(Referral.uuid).where(Referral.screening_id == screening.id)
                    )
                )
                assert referral_ids and referral_ids == stored, (referral_ids, stored)
                assert db.session.get(ScreeningFact, screening.id) is not None
                found += 1
            cases = db.session.scalar(sa.select(sa.func.count(Case.id)))
            half_written = db.session.scalar(
                sa.select(sa.func.count(Case.id)).where(
                    ~sa.exists().where(Screening.case_id == Case.id)
                    | ~sa.exists().where(Person.case_id == Case.id)
                )
            )
            orphans = db.session.scalar(
                sa.select(sa.func.count(Screening.id)).where(
                    ~sa.exists().where(ScreeningFact.screening_id == Screening.id)
                )
            )
            check = audit.verify()
            assert check.ok, check
            return {
                "found": found,
                "cases": cases,
                "half_written": half_written + orphans,
                "audit_events": check.count,
            }
        finally:
            db.session.remove()
            db.engine.dispose()
