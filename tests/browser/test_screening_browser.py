"""Golden path in a real browser: a screener screens a girl recruited by deception for a
bar in Madre de Dios and sees the result, with its reasons, on a phone-sized screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import LoginPage

pytestmark = pytest.mark.browser


class ScreeningFormPage:
    """Page object for /screenings/new (labels as a frontline worker reads them)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def open_from_menu(self) -> ScreeningFormPage:
        self.page.get_by_role("link", name="Nueva evaluación").first.click()
        self.page.get_by_role("heading", name="Nueva evaluación", level=1).wait_for()
        return self

    def select(self, label: str, option: str) -> ScreeningFormPage:
        self.page.get_by_label(label, exact=True).select_option(label=option)
        return self

    def type(self, label: str, text: str) -> ScreeningFormPage:
        self.page.get_by_label(label, exact=True).fill(text)
        return self

    def pick(self, group: str, option: str) -> ScreeningFormPage:
        """A radio button or checkbox of one group (a fieldset named by its legend)."""
        self.page.get_by_role("group", name=group, exact=True).get_by_label(
            option, exact=True
        ).check()
        return self

    def open_section(self, title: str) -> ScreeningFormPage:
        """A part of the form that is closed as it loads (<details>)."""
        self.page.locator("details:not([open]) > summary", has_text=title).first.click()
        return self

    def tick(self, *labels: str) -> ScreeningFormPage:
        for label in labels:
            self.page.get_by_label(label, exact=True).check()
        return self

    def help_of(self, label: str) -> str:
        """The plain-language help tied to a checkbox (aria-describedby), as a sighted
        person reads it after opening «¿Qué significa cada opción?» under the group."""
        box = self.page.get_by_label(label, exact=True)
        help_id = box.get_attribute("aria-describedby")
        help_text = self.page.locator(f"[id='{help_id}']")
        if not help_text.is_visible():
            self.page.locator("details", has=help_text).locator("summary").click()
        return help_text.inner_text()

    def submit(self) -> None:
        self.page.get_by_role("button", name="Registrar y ver el resultado").click()


class ResultPage:
    def __init__(self, page: Any) -> None:
        self.page = page
        page.get_by_role("heading", name="Resultado de la evaluación", level=1).wait_for()

    def status(self) -> str:
        return self.page.locator(".result-head .status").inner_text()

    def reasons(self) -> list[str]:
        return self.page.locator("ul.reasons li").all_inner_texts()

    def next_steps(self) -> str:
        return self.page.locator("ol.next-steps").inner_text()


def test_screen_a_girl_recruited_for_a_bar_in_madre_de_dios(page, live_server, live_user):
    user = live_user("screener")
    LoginPage(page, live_server["url"]).open().sign_in(user["email"], user["password"])
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()

    form = ScreeningFormPage(page).open_from_menu()
    assert "oferta de trabajo" in form.help_of("Captación")
    (
        form.select("Región donde se identificó a la persona", "Madre de Dios")
        .type("Nombres", "Rosa")
        .type("Apellidos", "Quispe Mamani")
        .pick("Sexo", "Femenino")
        .type("Edad (años cumplidos)", "16")
        .tick("Perú", "Captación", "Engaño", "Explotación sexual")
        .pick("¿Qué le hicieron? (acto)", "Transporte")
        .open_section("Contexto")
        .pick("Sector o actividad", "Bares, discotecas, hoteles y restaurantes")
        .select("Región donde la explotaron o querían explotarla", "Madre de Dios")
    )
    form.submit()

    result = ResultPage(page)
    assert result.status() == "Indicios de trata: presunta víctima"
    reasons = result.reasons()
    acts = next(r for r in reasons if r.startswith("Se registró al menos un acto"))
    assert "captación" in acts and "transporte" in acts
    assert any("no se requiere ningún medio" in r for r in reasons), reasons
    assert "Nunca deje a una niña, niño o adolescente en la comisaría" in result.next_steps()
    assert page.get_by_text("Versión de reglas 2026.1").is_visible()
    # Phone-sized screen: nothing wider than the viewport.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width


def test_missing_sex_shows_the_error_summary_and_focuses_the_field(page, live_server, live_user):
    user = live_user("screener")
    LoginPage(page, live_server["url"]).open().sign_in(user["email"], user["password"])
    form = ScreeningFormPage(page).open_from_menu()
    form.tick("Retención", "Trabajos forzados")
    form.submit()
    summary = page.get_by_role("alert")
    assert "Hay un problema" in summary.inner_text()
    summary.get_by_role(
        "link", name="Sexo: Elija una opción (si no se sabe, elija «No se sabe»)."
    ).click()
    assert page.url.endswith("#person_sex")
    assert page.get_by_role("group", name="Sexo", exact=True).is_visible()
    # What was ticked is still ticked.
    assert page.get_by_label("Retención", exact=True).is_checked()
