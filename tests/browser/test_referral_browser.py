"""Golden path in a real browser: a screener refers an adult woman who needs shelter,
records her consent and sends; the shelter's caseworker accepts and admits her, and
the shelter's occupancy goes up."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LoginPage
from tests.browser.test_screening_browser import ResultPage, ScreeningFormPage

pytestmark = pytest.mark.browser


def sign_in(page, live_server, user):
    LoginPage(page, live_server["url"]).open().sign_in(user["email"], user["password"])
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()


def test_refer_adult_woman_to_shelter_accept_and_admit(browser, live_server, live_user):
    screener = live_user("screener", "PNP-TRATA-LIM")
    shelter_worker = live_user("caseworker", "ONG-REF-LIM-W")

    # 1. The screener screens María (24, Venezuelan) who needs a shelter.
    context = browser.new_context(locale="es-PE", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, screener)
    form = ScreeningFormPage(page).open_from_menu()
    (
        form.select("Región donde se identificó a la persona", "Lima Metropolitana")
        .type("Nombres", "María")
        .type("Apellidos", "González")
        .pick("Sexo", "Femenino")
        .type("Edad (años cumplidos)", "24")
        .tick("Venezuela", "Captación", "Acogida", "Engaño", "Explotación sexual")
        .tick("Alojamiento (albergue)")
    )
    form.submit()
    result = ResultPage(page)
    assert result.status() == "Indicios de trata: presunta víctima"
    shelter_row = page.locator("tr", has_text="Casa Refugio Mujeres Lima")
    assert (
        "Falta consentimiento" in shelter_row.inner_text()
        or "consentimiento" in shelter_row.inner_text().lower()
    )

    # 2. She agrees: the screener records consent, then sends the shelter referral.
    shelter_row.get_by_role("link").first.click()
    page.get_by_role("link", name="Registrar consentimiento").click()
    page.get_by_label("Sí, consiente").check()
    page.get_by_label("Todas las derivaciones propuestas").check()
    page.get_by_label("Forma").select_option(label="Verbal")
    page.get_by_role("button", name="Guardar").click()
    page.get_by_text("Consentimiento registrado.").wait_for()
    page.locator("tr", has_text="Casa Refugio Mujeres Lima").get_by_role("link").first.click()
    page.get_by_label("Riesgos que el servicio debe conocer (opcional)").fill(
        "El tratante la busca en Gamarra."
    )
    page.get_by_role("button", name="Enviar derivación").click()
    page.get_by_text("Derivación enviada.").wait_for()
    context.close()

    # 3. The shelter's caseworker sees it in the inbox, accepts and admits.
    context = browser.new_context(locale="es-PE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, shelter_worker)
    page.get_by_role("link", name="Albergue").first.click()
    before = int(re.search(r"(\d+) de 12", page.locator(".occupancy").first.inner_text())[1])
    page.get_by_role("link", name="Derivaciones recibidas").first.click()
    page.get_by_role("link", name=re.compile("María")).click()
    assert page.get_by_text("El tratante la busca en Gamarra.").is_visible()
    page.get_by_role("button", name="Aceptar").click()
    page.get_by_text("Derivación aceptada").wait_for()
    page.get_by_label("Cama o habitación").fill("B-3")
    page.get_by_role("button", name="Registrar ingreso").click()
    page.get_by_text("Ingreso registrado.").wait_for()
    after = int(re.search(r"(\d+) de 12", page.locator(".occupancy").first.inner_text())[1])
    assert after == before + 1
    assert page.get_by_text("B-3").is_visible()
    context.close()
