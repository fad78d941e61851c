"""Searches keep names and document numbers out of URLs and logs; data files are 0600.

Issue 13, finding 9: a case search was ``GET /cases?q=<document number>``, so the number
reached the gunicorn access log (and browser history, Referer headers); the SQLite file
was world-readable. ADR 0014.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask

from caseapp.core.config import load_config
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_from, make_app, migrate_and_seed
from tests.integration.test_screening_pages import create_via_page

ROOT = Path(__file__).resolve().parents[2]
CANARY = f"CANARY{secrets.token_hex(4).upper()}"
ROSA_NAME = "Rosa Quispe Mamani"  # the person of create_via_page()


def _key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# -- pages -----------------------------------------------------------------------------------
def _search(client, q: str, **filters: str):
    token = csrf_from(client.get("/cases").get_data(as_text=True))
    return client.post("/cases", data={"q": q, "csrf_token": token, **filters})


def test_page_search_is_a_post_and_the_term_never_reaches_a_url(client, login_as, caplog):
    login_as("screener")
    create_via_page(client)
    caplog.set_level(logging.DEBUG)
    html = client.get("/cases").get_data(as_text=True)
    assert 'method="post"' in html and 'role="search"' in html

    found = _search(client, ROSA_NAME.upper())
    assert found.status_code == 303
    assert found.headers["Location"] == "/cases?search=1"  # a flag, not the term
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert "Rosa Quispe Mamani" in page
    assert f'value="{ROSA_NAME.upper()}"' in page  # the form still shows what was typed

    missed = _search(client, CANARY)
    assert missed.headers["Location"] == "/cases?search=1"
    page = client.get("/cases?search=1").get_data(as_text=True)
    assert "Ningún caso coincide" in page
    # the plain list (from the menu) is not filtered by the last search
    assert "Rosa Quispe Mamani" in client.get("/cases").get_data(as_text=True)
    assert CANARY not in caplog.text


def test_the_search_term_is_encrypted_in_the_session_cookie(app: Flask, client, login_as):
    login_as("screener")
    _search(client, CANARY)
    cookie = client.get_cookie("ruta_session")
    assert cookie is not None
    data = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert "_case_search" in data and CANARY not in repr(data)


def test_page_search_needs_the_csrf_token(client, login_as):
    login_as("screener")
    assert client.post("/cases", data={"q": CANARY}).status_code == 400


def test_an_invalid_stored_search_is_a_422_with_the_field_named(client, login_as):
    login_as("screener")
    _search(client, "x" * 300)
    response = client.get("/cases?search=1")
    assert response.status_code == 422
    assert "Hay un problema" in response.get_data(as_text=True)


# -- API ---------------------------------------------------------------------------------------
def test_api_search_takes_the_filters_in_the_body(api):
    screener = api("screener")
    from tests.integration.test_screening_api import ROSA

    assert screener.post("/api/v1/screenings", json=ROSA).status_code == 201
    found = screener.post("/api/v1/cases/search", json={"q": "rosa quispe mamani"})
    assert found.status_code == 200, found.json
    assert found.json["total"] == 1 and found.json["page"] == 1
    assert found.json == screener.get("/api/v1/cases?q=rosa+quispe+mamani").json
    none = screener.post("/api/v1/cases/search", json={"q": CANARY, "status": "open"})
    assert none.json["total"] == 0
    for body, field in (
        ({"colour": "red"}, "colour"),
        ({"q": 123}, "q"),
        ({"per_page": 500}, "per_page"),
        ({"status": "archived"}, "status"),
        ({"q": "x" * 201}, "q"),
    ):
        bad = screener.post("/api/v1/cases/search", json=body)
        assert bad.status_code == 422 and field in bad.json["error"]["fields"], body
    assert api("statistician").post("/api/v1/cases/search", json={}).status_code == 403


def test_api_search_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").json
    assert "post" in doc["paths"]["/cases/search"]


# -- gunicorn access log -----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, *, data: bytes | None = None, token: str = "") -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_gunicorn_access_log_has_no_query_strings(tmp_path: Path):
    """The project's gunicorn.conf.py, a real gunicorn, searches with a canary: the
    access log shows the requests but never the canary."""
    keys = {"DATA_KEY": _key(), "INDEX_KEY": _key(), "SECRET_KEY": _key()}
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    app = make_app(tmp_path, url, **keys)
    migrate_and_seed(app)
    from caseapp.accounts import services

    with app.app_context():
        user = services.create_user(
            None,
            email="log@pnp.test",
            role="screener",
            org_code="PNP-TRATA-MDD",
            password=PASSWORD,
        )
        token = services.create_token(None, user)
        db.session.commit()
        db.engine.dispose()
    port = _free_port()
    log = tmp_path / "access.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CASEAPP_ENV": "testing",
        "CASEAPP_DATABASE_URL": url,
        **{f"CASEAPP_{k}": v for k, v in keys.items()},
    }
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--chdir",
            str(ROOT),
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(log),
            "wsgi:app",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _request(f"{base}/healthz") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "gunicorn did not start"
            assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
            time.sleep(0.1)
        assert _request(f"{base}/api/v1/cases?q={CANARY}", token=token) == 200
        body = f'{{"q": "{CANARY}"}}'.encode()
        assert _request(f"{base}/api/v1/cases/search", data=body, token=token) == 200
        # an old link, not signed in: redirected to /login?next=/cases?q=… (followed)
        assert _request(f"{base}/cases?q={CANARY}") == 200
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    text = log.read_text() + output.decode(errors="replace")
    assert '"GET /api/v1/cases HTTP/1.1" 200' in text
    assert '"POST /api/v1/cases/search HTTP/1.1" 200' in text
    assert '"GET /login HTTP/1.1" 200' in text
    assert CANARY not in text


# -- files -------------------------------------------------------------------------------------
def test_database_keys_and_backup_files_are_created_private(tmp_path: Path):
    with umask(0o022):  # the usual umask: files would be 0644
        load_config({"ENV": "development"}, environ={}, instance_path=tmp_path / "instance")
        assert mode(tmp_path / "instance" / "keys.json") == 0o600
        url = f"sqlite:///{tmp_path / 'files.sqlite3'}"
        app = make_app(tmp_path, url)
        migrate_and_seed(app)
        database = tmp_path / "files.sqlite3"
        assert mode(database) == 0o600
        for extra in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            if extra.exists():
                assert mode(extra) == 0o600, extra
        archive = tmp_path / "backup.ruta"
        result = app.test_cli_runner().invoke(args=["backup", "create", str(archive)])
        assert result.exit_code == 0, result.output
        assert mode(archive) == 0o600
        with app.app_context():
            db.engine.dispose()


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path):
    database = tmp_path / "old.sqlite3"
    database.touch()
    database.chmod(0o644)
    app = make_app(tmp_path, f"sqlite:///{database}")
    migrate_and_seed(app)
    assert mode(database) == 0o600
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("name", ["access_log_format"])
def test_the_gunicorn_format_has_no_request_line_nor_referer(name: str):
    namespace: dict[str, object] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), namespace)  # noqa: S102 (our own file)
    fmt = str(namespace[name])
    assert "%(U)s" in fmt
    assert not any(part in fmt for part in ("%(r)s", "%(q)s", "%(f)s", "%({"))
