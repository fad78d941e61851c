"""A supervisor finds the HTCDS exchange page in the menu and downloads the file of the
organization's cases (headless Chromium against a live server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caseapp.extensions import db
from tests.browser.conftest import LoginPage
from tests.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.browser


def supervisor_with_two_factor(live_server: dict[str, Any]) -> tuple[str, str]:
    from caseapp.accounts import services
    from caseapp.accounts import two_factor as tf

    live_server["n"] += 1
    email = f"supervisor{live_server['n']}@browser.test"
    with live_server["app"].app_context():
        user = services.create_user(
            None, email=email, role="supervisor", org_code="PNP-TRATA-MDD", password=PASSWORD
        )
        secret = tf.start_enrolment(user)
        tf.confirm_enrolment(user, totp_code(secret, -1))
        db.session.commit()
    return email, secret


def test_supervisor_downloads_the_htcds_file(page, live_server, tmp_path):
    email, secret = supervisor_with_two_factor(live_server)
    base = live_server["url"]
    LoginPage(page, base).open().sign_in(email, PASSWORD)
    page.get_by_label("Código de verificación").fill(totp_code(secret))
    page.get_by_role("button", name="Verificar").click()
    page.get_by_role("link", name="Intercambio HTCDS").first.click()
    page.get_by_role("heading", name="Casos en el estándar HTCDS 2.0").wait_for()
    page.screenshot(path=str(tmp_path / "htcds.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="Descargar JSON (HTCDS 2.0)").click()
    download = info.value
    assert download.suggested_filename.startswith("ruta-htcds-PNP-TRATA-MDD-")
    doc = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert doc["standard"] == "HTCDS" and doc["version"] == "2.0"
    assert doc["organisation"]["Code"] == "PNP-TRATA-MDD"
