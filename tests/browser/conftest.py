"""A live Ruta server on 127.0.0.1 (own SQLite database) and headless Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from caseapp.extensions import db
from tests.conftest import PASSWORD, make_app, migrate_and_seed

pytestmark = pytest.mark.browser


def chromium_path() -> str:
    path = (
        os.environ.get("CASEAPP_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium not found: scripts/test.sh installs it (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp: Path = tmp_path_factory.mktemp("live")
    app = make_app(tmp)  # SQLite file of its own: a real server commits for real
    migrate_and_seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    info = {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "n": 0}
    yield info
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_user(live_server: dict[str, Any]) -> Any:
    from caseapp.accounts import services

    def create(role: str = "screener", org: str = "PNP-TRATA-MDD") -> dict[str, str]:
        live_server["n"] += 1
        email = f"{role}{live_server['n']}@browser.test"
        with live_server["app"].app_context():
            services.create_user(None, email=email, role=role, org_code=org, password=PASSWORD)
            db.session.commit()
        return {"email": email, "password": PASSWORD}

    return create


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="es-PE", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


class LoginPage:
    """Page object for /login."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base

    def open(self) -> LoginPage:
        self.page.goto(f"{self.base}/login")
        return self

    def sign_in(self, email: str, password: str) -> None:
        self.page.get_by_label("Correo electrónico").fill(email)
        self.page.get_by_label("Contraseña").fill(password)
        self.page.get_by_role("button", name="Ingresar").click()
