"""A supervisor imports a register through the page: uploads the sample file, reads the dry
run, imports, sees the batch with its cases and rolls it back (headless Chromium against a
live server, no JavaScript on the pages)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from caseapp.extensions import db
from caseapp.imports import profiles
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LoginPage
from tests.conftest import PASSWORD, totp_code

pytestmark = pytest.mark.browser

SAMPLE = profiles.DEFAULT_DIR / "samples" / "police-register.SYNTHETIC.xlsx"
ORG = "PNP-TRATA-CUS"  # its own organization: the other browser tests' counts stay as they are


def supervisor(live_server: dict[str, Any]) -> tuple[str, str]:
    from caseapp.accounts import services
    from caseapp.accounts import two_factor as tf

    live_server["n"] += 1
    email = f"importer{live_server['n']}@browser.test"
    with live_server["app"].app_context():
        user = services.create_user(
            None, email=email, role="supervisor", org_code=ORG, password=PASSWORD
        )
        secret = tf.start_enrolment(user)
        tf.confirm_enrolment(user, totp_code(secret, -1))
        db.session.commit()
    return email, secret


def imported_records(live_server: dict[str, Any]) -> int:
    from caseapp.accounts.models import Organization
    from caseapp.imports.models import ImportRecord

    with live_server["app"].app_context():
        org_id = db.session.scalar(sa.select(Organization.id).where(Organization.code == ORG))
        return int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(ImportRecord)
                .where(ImportRecord.organization_id == org_id)
            )
            or 0
        )


def accessible(page: Any) -> None:
    found = axe_violations(page)
    assert not found, describe(found)


def count(page: Any, name: str) -> int:
    return int(page.locator(f'[data-count="{name}"]').inner_text())


def test_supervisor_imports_a_sample_and_rolls_it_back(page, live_server, tmp_path):
    email, secret = supervisor(live_server)
    base = live_server["url"]
    LoginPage(page, base).open().sign_in(email, PASSWORD)
    page.get_by_label("Código de verificación").fill(totp_code(secret))
    page.get_by_role("button", name="Verificar").click()

    # the menu entry, then step 1: profile and file
    page.get_by_role("link", name="Importar registros").first.click()
    page.get_by_role("heading", name="Importar un registro existente").wait_for()
    accessible(page)
    page.get_by_label("Registro de origen (perfil)").select_option("police-register")
    page.get_by_label("Archivo del registro").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Revisar el archivo (no importa nada)").click()

    # step 2: the dry run's counts; nothing imported yet
    page.get_by_role("heading", name="2. Revisión del archivo (nada importado aún)").wait_for()
    page.screenshot(path=str(tmp_path / "import-check.png"), full_page=True)
    assert (count(page, "rows"), count(page, "bad"), count(page, "new")) == (15, 0, 15)
    assert imported_records(live_server) == 0
    accessible(page)

    # step 3: import → the batch page, its provenance and its cases
    page.get_by_role("button", name="Importar", exact=True).click()
    page.get_by_role("heading", name="Lote importado").wait_for()
    page.get_by_text("Importación terminada: 15 casos nuevos").wait_for()
    assert count(page, "new") == 15
    assert page.get_by_text("RETA-PNP", exact=True).count() >= 1
    assert page.get_by_text("police-register.SYNTHETIC.xlsx").count() >= 1
    cases = page.get_by_role("link", name="Ver el caso")
    assert cases.count() == 15
    assert imported_records(live_server) == 15
    page.screenshot(path=str(tmp_path / "import-batch.png"), full_page=True)
    accessible(page)

    # an imported case opens (closed, from the register)
    href = cases.first.get_attribute("href")
    page.goto(base + href)
    page.get_by_role("heading", name="Persona").wait_for()
    page.go_back()

    # the batches list, then roll back with a confirmation step
    page.get_by_role("link", name="Lotes de importación").first.click()
    page.get_by_role("heading", name="Lotes de importación de su organización").wait_for()
    page.get_by_role("link", name="police-register.SYNTHETIC.xlsx").first.click()
    page.get_by_role("link", name="Deshacer esta importación…").click()
    page.get_by_role("heading", name="¿Deshacer esta importación?").wait_for()
    page.get_by_role("button", name="Sí, deshacer la importación").click()
    page.get_by_role("heading", name="Lote deshecho").wait_for()
    page.get_by_text("se eliminaron 15 casos importados").wait_for()
    assert imported_records(live_server) == 0
