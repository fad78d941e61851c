"""axe-core finds nothing on Ruta's main pages, at desktop (1280 px) and phone (390 px)
width, each page seen by the role that uses it (issue 14). The screening form is checked as
it loads, with every closed part opened, and after a failed submit."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest

from caseapp.extensions import db
from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import LoginPage
from tests.browser.frontline_form import DESKTOP, PHONE, SUBMIT
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# An adult woman from Venezuela found in Lima who needs a shelter and consents: her shelter
# referral is sent, so the shelter's inbox and the case have something to show.
LUCIA = {
    "region": "1501",
    "identification_context": "hotline",
    "person": {
        "given_names": "Lucía Fernanda",
        "family_names": "Torres Vílchez",
        "sex": "F",
        "age_years": 26,
        "nationality": ["VEN"],
        "migration_status": "irregular",
        "languages": ["es"],
    },
    "acts": ["recruitment", "harbouring"],
    "means": ["deception"],
    "purposes": ["sexual_exploitation"],
    "needs": ["shelter", "medical", "legal"],
    "consent": {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
}


@dataclass
class World:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def world(live_server: dict[str, Any]) -> World:
    from caseapp.accounts import services as accounts
    from caseapp.accounts import two_factor
    from caseapp.intake import services as intake
    from caseapp.referrals import services as referrals

    app, out = live_server["app"], World()
    roles = {
        "screener": "PNP-TRATA-LIM",
        "caseworker": "ONG-REF-LIM-W",  # the receiving side: a women's shelter
        "statistician": "PNP-TRATA-LIM",
        "admin": "PNP-TRATA-LIM",
    }
    created: dict[str, Any] = {}
    with app.app_context():
        for role, org in roles.items():
            email = f"a11y-{role}@browser.test"
            user = accounts.create_user(
                None, email=email, role=role, org_code=org, password=PASSWORD
            )
            secret = None
            if role in two_factor.REQUIRED_ROLES:
                secret = two_factor.start_enrolment(user)
                totp = pyotp.TOTP(secret)
                two_factor.confirm_enrolment(user, totp.at(int(time.time()) - totp.interval))
            db.session.commit()
            created[role] = user
            out.users[role] = {"email": email, "password": PASSWORD, "totp": secret}
        screener = created["screener"]
        screening, _ = intake.screen_once(screener, None, "a11y", LUCIA)
        db.session.commit()
        shelter = next(
            r for r in referrals.case_referrals(screening.case) if r.service_type == "ngo_shelter"
        )
        referrals.send(screener, shelter.uuid)
        db.session.commit()
        result, case, referral = screening.uuid, screening.case.uuid, shelter.uuid
        # a stored model (defaults: one record) so the linkage quality page has its tables
        from caseapp.facts import services as facts

        facts.relink_all()
        db.session.commit()

    out.pages = {
        "anonymous": ["/login"],
        "screener": [
            "/",
            "/screenings/new",
            f"/screenings/{result}",
            f"/cases/{case}",
            f"/referrals/{referral}",
            "/referrals/outgoing",
            "/directory/",
        ],
        "caseworker": ["/referrals/incoming", "/shelters/"],
        "statistician": ["/reports/", "/reports/gaps", "/reports/linkage"],
        "admin": ["/admin/users", "/admin/audit/"],
    }
    return out


def _sign_in(page: Any, base: str, user: dict[str, Any]) -> None:
    LoginPage(page, base).open().sign_in(user["email"], user["password"])
    if page.url.endswith("/login/2fa"):
        page.locator("input[name='code']").fill(pyotp.TOTP(user["totp"]).now())
        page.get_by_role("button", name="Verificar").click()
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()


def _check(page: Any, label: str, failures: dict[str, str]) -> None:
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        found = axe_violations(page)
        if found:
            failures[f"{label} at {viewport['width']} px"] = describe(found)


@pytest.mark.parametrize("role", ["anonymous", "screener", "caseworker", "statistician", "admin"])
def test_main_pages_have_no_axe_violations(browser, live_server, world, role):
    context = browser.new_context(locale="es-PE", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server["url"]
    try:
        if role != "anonymous":
            _sign_in(page, base, world.users[role])
        failures: dict[str, str] = {}
        for path in world.pages[role]:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (path, response)
            _check(page, path, failures)
        assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    finally:
        context.close()


def test_the_screening_form_opened_and_after_a_failed_submit_has_no_axe_violations(
    browser, live_server, world
):
    context = browser.new_context(locale="es-PE", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    base = live_server["url"]
    try:
        _sign_in(page, base, world.users["screener"])
        failures: dict[str, str] = {}
        page.goto(base + "/screenings/new")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        _check(page, "/screenings/new with every part open", failures)
        page.get_by_role("button", name=SUBMIT).click()  # no sex: refused
        page.locator(".error-summary").wait_for()
        _check(page, "/screenings/new after a failed submit", failures)
        assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    finally:
        context.close()
