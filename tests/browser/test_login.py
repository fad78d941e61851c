"""Golden path in a real browser: open the login page, sign in, see the Spanish home."""

from __future__ import annotations

import pytest

from tests.browser.conftest import LoginPage

pytestmark = pytest.mark.browser


def test_sign_in_and_browse_the_directory(page, live_server, live_user):
    user = live_user("screener")
    login = LoginPage(page, live_server["url"]).open()
    assert page.title() == "Ingresar · Ruta"
    login.sign_in(user["email"], user["password"])
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    page.get_by_role("link", name="Directorio").first.click()
    page.get_by_label("Región").select_option(label="Madre de Dios")
    page.get_by_role("button", name="Filtrar").click()
    assert page.get_by_text("Unidad de Protección Especial Madre de Dios").is_visible()


def test_wrong_password_shows_error_summary(page, live_server, live_user):
    user = live_user("screener")
    LoginPage(page, live_server["url"]).open().sign_in(user["email"], "wrong password!!")
    summary = page.get_by_role("alert")
    assert "Correo o contraseña incorrectos." in summary.inner_text()
