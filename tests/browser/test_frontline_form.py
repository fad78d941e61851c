"""The screening form fits a phone (issue 14): the common path in at most 5 phone screens,
a typical case in at most 25 clicks, nothing lost — measured in Chromium as described in
tests/browser/frontline_form.py and docs/frontline-form.md."""

from __future__ import annotations

from typing import Any

import pytest

from caseapp.intake.forms import ScreeningForm
from tests.browser.conftest import LoginPage
from tests.browser.frontline_form import (
    DESKTOP,
    PHONE,
    PROFILES,
    Profile,
    fill_and_submit,
    page_screens,
)

pytestmark = pytest.mark.browser

MAX_PHONE_SCREENS = 5.0
MAX_CLICKS = 25


def _open_form(page: Any, live_server: dict[str, Any], live_user: Any) -> None:
    user = live_user("screener")
    LoginPage(page, live_server["url"]).open().sign_in(user["email"], user["password"])
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()
    page.goto(f"{live_server['url']}/screenings/new")
    page.get_by_role("heading", name="Nueva evaluación", level=1).wait_for()


def test_the_form_fits_five_phone_screens_as_it_loads(page, live_server, live_user):
    _open_form(page, live_server, live_user)
    page.set_viewport_size(PHONE)
    phone = page_screens(page)
    page.set_viewport_size(DESKTOP)
    desktop = page_screens(page)
    print(f"\n/screenings/new: {phone:.1f} phone screens, {desktop:.1f} desktop screens")
    assert phone <= MAX_PHONE_SCREENS, f"{phone:.1f} phone screens (desktop {desktop:.1f})"
    assert desktop <= phone
    # Nothing wider than a phone.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_every_field_of_the_form_is_still_on_the_page(page, live_server, live_user):
    """Progressive disclosure hides nothing for good: every input name is on the page."""
    _open_form(page, live_server, live_user)
    names = set(
        page.eval_on_selector_all("form.screening-form [name]", "els => els.map(e => e.name)")
    )
    with live_server["app"].test_request_context():
        expected = {f.name for f in ScreeningForm(meta={"csrf": False})}
    assert expected <= names | {"csrf_token"}, expected - names


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.key)
def test_a_walkthrough_profile_takes_at_most_25_clicks(
    page, live_server, live_user, profile: Profile
):
    _open_form(page, live_server, live_user)
    tally = fill_and_submit(page, profile)
    page.get_by_role("heading", name="Resultado de la evaluación", level=1).wait_for()
    status = page.locator(".result-head .status").get_attribute("class") or ""
    print(f"\n{profile.key}: {tally.clicks} clicks\n  " + "\n  ".join(tally.log))
    assert f"status-{profile.expected_status}" in status.split(), status
    given = profile.answers["person_given_names"]
    assert given in page.locator("main").inner_text()
    assert tally.clicks <= MAX_CLICKS, f"{profile.key}: {tally.clicks} clicks: {tally.log}"
