"""Fault injection: PostgreSQL restarted under load (issue 13, finding 10).

``python -m benchmarks.fault_restart [--seconds 60] [--clients 20] [--workers 3]``

1. starts a PRIVATE PostgreSQL: ``initdb`` into a temp folder and ``pg_ctl start`` on a
   free loopback port (as the ``postgres`` system user when run as root: PostgreSQL
   refuses to run as root); nothing else on the machine is touched;
2. migrates and seeds a Ruta database there and creates a screener and its API token
   with the documented CLI (``flask db upgrade``, ``seed``, ``users create``,
   ``tokens create``), production mode with fresh keys;
3. runs gunicorn (``--workers`` sync workers, 127.0.0.1 only) on it;
4. ``--clients`` keep-alive clients post varied screenings (benchmarks/payloads.py) for
   ``--seconds``; at a third of the run the database is restarted with
   ``pg_ctl restart -m fast`` (sessions terminated, new connections refused while it is
   down);
5. afterwards counts: sent, acknowledged (201), acknowledged ids found in the database,
   answers by status (503 expected during the restart, 500 never), cases without their
   screening or person (half-written), the audit chain (``flask audit verify``), and
   tracebacks in the server log; prints a Markdown table.

Exit status 0 only when nothing acknowledged was lost, no request got a 500, nothing is
half-written and the audit chain verifies. All traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import base64
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks import loadgen
from benchmarks.b3_throughput import Server, ServerConfig, free_port, missing_ids, request_maker
from benchmarks.env import BenchEnv

DATABASE = "ruta_bench_fault"
EMAIL = "fault@pnp-trata-mdd.test"
ORG = "PNP-TRATA-MDD"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin folder (Debian layout)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if not found:
        raise SystemExit("no /usr/lib/postgresql/*/bin/initdb: install PostgreSQL server")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A throw-away cluster in a temp folder, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.root = Path(tempfile.mkdtemp(prefix="ruta-fault-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.as_user = "postgres" if os.geteuid() == 0 else None
        if self.as_user:
            shutil.chown(self.root, self.as_user, self.as_user)
        self.root.chmod(0o700)

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}\n"
                f"{self.log.read_text() if self.log.exists() else ''}"
            )
        return result

    def init_and_start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def restart_fast(self) -> None:
        """Terminate every session, shut down, start again (as an operator would)."""
        # -l again: otherwise the new postmaster writes to (and holds open) our pipe
        self._run(
            "pg_ctl", "-D", str(self.data), "-m", "fast", "-l", str(self.log), "-w", "restart"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Outcome:
    seconds: float
    clients: int
    workers: int
    restart_at: float = 0.0
    restart_took: float = 0.0
    sent: int = 0
    acknowledged: int = 0
    found: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    retries: int = 0
    half_written: int = 0
    audit: str = ""
    tracebacks: int = 0
    unavailable_logged: int = 0
    restart_error: str = ""
    acknowledged_after: int = 0  # 201s to requests sent after the database was back
    first_ok_after: float | None = None  # seconds from "back" to the first 201 answered

    @property
    def lost(self) -> int:
        return self.acknowledged - self.found

    @property
    def ok(self) -> bool:
        restarted = not self.restart_error and self.restart_took > 0
        recovered = restarted and self.acknowledged_after > 0
        return (
            recovered
            and self.lost == 0
            and self.statuses.get(500, 0) == 0
            and self.half_written == 0
            and self.audit.startswith("audit chain ok")
        )

    def _first_ok_after(self) -> str:
        return "never" if self.first_ok_after is None else f"{self.first_ok_after:.2f} s"

    def record(self, samples: Sequence[loadgen.Sample]) -> None:
        """Tally the load generator's samples (times in seconds since the load began)."""
        back = self.restart_at + self.restart_took
        for sample in samples:
            self.statuses[sample.status] = self.statuses.get(sample.status, 0) + 1
            if sample.status == 201 and self.restart_took > 0:
                if sample.started >= back:
                    self.acknowledged_after += 1
                answered = sample.started + sample.latency - back
                if answered >= 0 and (
                    self.first_ok_after is None or answered < self.first_ok_after
                ):
                    self.first_ok_after = answered
        self.sent = len(samples)

    def table(self) -> str:
        other = {k: v for k, v in sorted(self.statuses.items()) if k not in (201, 503, 500, 0)}
        rows = [
            (
                "run",
                f"{self.seconds:.0f} s, {self.clients} clients, gunicorn sync "
                f"-w {self.workers}, private PostgreSQL on 127.0.0.1",
            ),
            (
                "database restarted (`pg_ctl restart -m fast`)",
                f"at {self.restart_at:.1f} s, back after {self.restart_took:.1f} s"
                + (f" — FAILED: {self.restart_error}" if self.restart_error else ""),
            ),
            ("requests sent", str(self.sent)),
            ("acknowledged (201)", str(self.acknowledged)),
            ("acknowledged and found in the database afterwards", str(self.found)),
            ("**lost** (acknowledged, not found)", f"**{self.lost}**"),
            (
                "acknowledged after the database was back",
                f"{self.acknowledged_after} (first 201 {self._first_ok_after()} after it was back)",
            ),
            ("503 service_unavailable (Retry-After)", str(self.statuses.get(503, 0))),
            ("**500**", f"**{self.statuses.get(500, 0)}**"),
            ("other statuses", ", ".join(f"{k}: {v}" for k, v in other.items()) or "none"),
            ("no answer (transport error)", str(self.statuses.get(0, 0))),
            ("resent once on a closed keep-alive (client)", str(self.retries)),
            ("half-written cases (no screening or no person)", str(self.half_written)),
            ("audit chain (`flask audit verify`)", self.audit or "not checked"),
            ("tracebacks in the server log", str(self.tracebacks)),
            ("'database unavailable' warnings in the server log", str(self.unavailable_logged)),
        ]
        lines = ["| measure | result |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in rows]
        return "\n".join(lines)


def half_written(url: str) -> int:
    """Cases missing their screening or their person, and screenings without a fact."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.exec_driver_sql(
                    "SELECT (SELECT count(*) FROM cases c WHERE NOT EXISTS "
                    "(SELECT 1 FROM screenings s WHERE s.case_id = c.id) OR NOT EXISTS "
                    "(SELECT 1 FROM persons p WHERE p.case_id = c.id)) + "
                    "(SELECT count(*) FROM screenings s WHERE NOT EXISTS "
                    "(SELECT 1 FROM screening_facts f WHERE f.screening_id = s.id))"
                ).scalar_one()
            )
    finally:
        engine.dispose()


def prepare(env: BenchEnv) -> str:
    """Migrate, seed, create the screener and return its token (the documented CLI)."""
    env.flask("db", "upgrade")
    env.flask("seed")
    password = base64.b64encode(os.urandom(24)).decode()
    env.flask(
        "users",
        "create",
        EMAIL,
        "--role",
        "screener",
        "--org",
        ORG,
        "--password-stdin",
        stdin=password + "\n",
    )
    return env.flask("tokens", "create", EMAIL).stdout.strip().splitlines()[-1]


def run(seconds: float, clients: int, workers: int, log: Any = print) -> Outcome:
    outcome = Outcome(seconds=seconds, clients=clients, workers=workers)
    pg = PrivatePostgres()
    server: Server | None = None
    env: BenchEnv | None = None
    try:
        log(f"private PostgreSQL ({pg.bin.parent.name}) in {pg.root}, port {pg.port}")
        pg.init_and_start()
        env = BenchEnv(pg.create_database(DATABASE))
        token = prepare(env)
        server = Server(env, ServerConfig("sync", workers))
        log(
            f"gunicorn -w {workers} on 127.0.0.1:{server.port}; {clients} clients for "
            f"{seconds:.0f} s, database restart at {seconds / 3:.0f} s"
        )

        def restart() -> None:
            started = time.perf_counter()
            outcome.restart_at = started - load_started
            try:
                pg.restart_fast()
            except Exception as exc:  # reported; the run fails
                outcome.restart_error = str(exc)[:500]
            outcome.restart_took = time.perf_counter() - started

        load_started = time.perf_counter()
        timer = threading.Timer(seconds / 3, restart)
        timer.start()
        result = loadgen.run(
            "127.0.0.1",
            server.port,
            request_maker(token, seed=13),
            concurrency=clients,
            seconds=seconds,
            keep_body=True,
            timeout=30.0,
        )
        timer.join()
        outcome.record(result.samples)
        outcome.retries = result.retries
        ids = [s.body["id"] for s in result.samples if s.status == 201 and s.body]
        outcome.acknowledged = len(ids)
        app = env.create_app()
        outcome.found = len(ids) - len(missing_ids(app, ids))
        with app.app_context():
            from caseapp.extensions import db

            db.engine.dispose()
        outcome.half_written = half_written(env.url)
        verify = env.flask("audit", "verify")
        outcome.audit = verify.stdout.strip().splitlines()[-1]
        server.stop()
        server = None
        text = _server_log(env)
        outcome.tracebacks = text.count("Traceback (most recent call last)")
        outcome.unavailable_logged = text.count("database unavailable")
        return outcome
    finally:
        if server is not None:
            server.stop()
        try:
            pg.stop()
        finally:
            pg.cleanup()
            if env is not None:
                shutil.rmtree(env.instance, ignore_errors=True)


def _server_log(env: BenchEnv) -> str:
    return "\n".join(p.read_text(errors="replace") for p in env.instance.glob("gunicorn-*.log"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="length of the load (default 60; the restart is at a third)",
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    if not 3 <= args.seconds <= 3600 or not 1 <= args.clients <= 200:
        parser.error("--seconds must be 3..3600 and --clients 1..200")
    outcome = run(
        args.seconds,
        args.clients,
        args.workers,
        log=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(outcome.table())
    print("\nresult:", "PASS (0 lost, 0 × 500)" if outcome.ok else "FAIL")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
