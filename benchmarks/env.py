"""The benchmark environment: its own PostgreSQL database, keys and instance folder.

Only databases whose name starts with ``ruta_bench`` are ever dropped. The keys are fresh
for every run and shared (through ``CASEAPP_*`` variables) by this process, the ``flask``
commands it runs and the gunicorn server of B3, so all of them read the same ciphertext.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ruta_bench"
KEY_NAMES = ("SECRET_KEY", "DATA_KEY", "INDEX_KEY", "AUDIT_KEY", "AUDIT_SIGNING_KEY")


def database_name(url: str) -> str:
    return sa.engine.make_url(url).database or ""


def check_bench_url(url: str) -> None:
    """Refuse anything but a PostgreSQL database named ``ruta_bench*``."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise SystemExit(f"benchmarks need PostgreSQL, not {parsed.drivername}")
    if not (parsed.database or "").startswith("ruta_bench"):
        raise SystemExit(
            f"refusing to drop database {parsed.database!r}: its name must start with ruta_bench"
        )


def recreate_database(url: str) -> None:
    """Drop and create the bench database (connected to the ``postgres`` database)."""
    check_bench_url(url)
    name = database_name(url)
    admin = sa.engine.make_url(url).set(database="postgres")
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()


def bin_path(name: str) -> str:
    """An executable of this virtualenv (flask, gunicorn)."""
    return str(Path(sys.executable).parent / name)


@dataclass
class BenchEnv:
    url: str
    instance: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ruta-bench-")))
    keys: dict[str, str] = field(
        default_factory=lambda: {
            k: base64.b64encode(secrets.token_bytes(32)).decode() for k in KEY_NAMES
        }
    )

    @classmethod
    def for_url(cls, url: str, *, reuse: bool = False) -> BenchEnv:
        """A fresh instance folder and keys; with ``reuse``, those of the previous run on
        the same database (kept in the temp folder), so its data stays readable."""
        folder = Path(tempfile.gettempdir()) / f"ruta-bench-{database_name(url)}"
        folder.mkdir(mode=0o700, exist_ok=True)
        keys_file = folder / "keys.json"
        if reuse:
            if not keys_file.exists():
                raise SystemExit(f"--reuse-data: no previous run on {database_name(url)}")
            return cls(url, folder, json.loads(keys_file.read_text()))
        env = cls(url, folder)
        keys_file.write_text(json.dumps(env.keys))
        keys_file.chmod(0o600)
        return env

    def environ(self, env: str = "production") -> dict[str, str]:
        out = {k: v for k, v in os.environ.items() if not k.startswith("CASEAPP_")}
        out.update({f"CASEAPP_{k}": v for k, v in self.keys.items()})
        out.update(
            CASEAPP_ENV=env,
            CASEAPP_DATABASE_URL=self.url,
            CASEAPP_INSTANCE_PATH=str(self.instance),
        )
        return out

    def flask(
        self,
        *args: str,
        env: str = "development",
        stdin: str | None = None,
        capture: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``flask --app caseapp ARGS`` against the bench database; raise on failure.
        ``synth`` refuses production, so administration runs as development with the
        production keys and database."""
        result = subprocess.run(
            [bin_path("flask"), "--app", "caseapp", *args],
            cwd=PROJECT_ROOT,
            env=self.environ(env),
            input=stdin,
            text=True,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.PIPE if capture else None,
            check=False,
            timeout=3600,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"flask {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout or ''}{result.stderr or ''}"
            )
        return result

    def create_app(self, **overrides: Any) -> Any:
        """The production application (same config as gunicorn) for in-process benchmarks."""
        os.environ.update(
            {k: v for k, v in self.environ("production").items() if k.startswith("CASEAPP_")}
        )
        from caseapp import create_app

        return create_app({"ENV": "production", **overrides})

    def postgres_version(self) -> str:
        engine = sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(conn.exec_driver_sql("SHOW server_version").scalar())
        finally:
            engine.dispose()

    def build_empty(self) -> None:
        """Drop/create the database, migrate, seed (the documented commands)."""
        recreate_database(self.url)
        self.flask("db", "upgrade")
        self.flask("seed")
