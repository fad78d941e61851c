"""Screenshots of the user guide (docs/img/guide/), made from the demo so they never go
stale, and the "Ayuda" links of the pages (issue 14, item 15).

Each screenshot has the hash of its page's HTML in docs/img/guide/pages.json, normalised:
no hidden inputs (CSRF tokens), ids, digits or hex digests, which change at every run. A
PNG is written only when that hash changed or the PNG is missing; with
``RUTA_GUIDE_CHECK=1`` (CI) nothing is written and the test fails, naming every stale screenshot.

Refresh after changing a page:
    PYTHONPATH=$PWD .venv/bin/pytest -m browser tests/browser/test_guide_screenshots.py
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pyotp
import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from caseapp.extensions import db
from tests.browser.conftest import LoginPage
from tests.conftest import make_app, migrate_and_seed, totp_code

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "img" / "guide"
HASHES = IMAGES / "pages.json"
GUIDES = {"es": ROOT / "docs" / "guia-de-uso.md", "en": ROOT / "docs" / "user-guide.md"}
CHECK = os.environ.get("RUTA_GUIDE_CHECK") == "1"
DESKTOP = {"width": 1280, "height": 860}
TWO_FACTOR = ("supervisor@pnp.demo", "statistician@inei.demo", "admin@ruta.demo")


# -- the demo, served ------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A live server with exactly what `scripts/demo.sh` sets up (plus escalations), and
    no cell-key noise so that the statistics pages are the same at every run."""
    app = make_app(tmp_path_factory.mktemp("guide"), PERTURBATION_MAX_NOISE=0)
    migrate_and_seed(app)
    runner = app.test_cli_runner()
    with app.app_context():
        users = runner.invoke(args=["demo", "users"])
        assert users.exit_code == 0, users.output
        for command in (["demo", "cases"], ["demo", "statistics"], ["referrals", "escalate"]):
            result = runner.invoke(args=command)
            assert result.exit_code == 0, result.output
    passwords = dict(re.findall(r"^\s+\w+\s+(\S+@\S+)\s+(\S+)", users.stdout, re.M))
    secrets = {}
    with app.app_context():
        from caseapp.accounts import services
        from caseapp.accounts import two_factor as tf

        for email in TWO_FACTOR:
            user = services.get_user_by_email(email)
            secrets[email] = tf.start_enrolment(user)
            tf.confirm_enrolment(user, totp_code(secrets[email], -1))  # leaves "now" unused
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}",
        "app": app,
        "passwords": passwords,
        "secrets": secrets,
        "used_steps": {},
    }
    server.shutdown()
    with app.app_context():
        db.engine.dispose()


def _sign_in(browser: Any, demo: dict[str, Any], email: str, lang: str = "es") -> Any:
    context = browser.new_context(locale="es-PE", viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    LoginPage(page, demo["url"]).open().sign_in(email, demo["passwords"][email])
    if email in demo["secrets"]:
        # each 30-second step is accepted once per user; the next one is accepted early
        totp, used = pyotp.TOTP(demo["secrets"][email]), demo["used_steps"]
        step = int(time.time()) // totp.interval
        if used.get(email, -1) >= step + 1:
            time.sleep(totp.interval - time.time() % totp.interval + 1)
            step = int(time.time()) // totp.interval
        step = max(step, used.get(email, -1) + 1)
        used[email] = step
        page.get_by_label("Código de verificación").fill(totp.at(step * totp.interval))
        page.get_by_role("button", name="Verificar").click()
    page.get_by_role("heading", name="Bienvenida, bienvenido a Ruta").wait_for()
    if lang == "en":
        page.get_by_role("button", name="EN").click()
        page.wait_for_load_state()
    return page


def _ids(demo: dict[str, Any]) -> dict[str, str]:
    """Uuids of the demo's screenings, cases and referrals, by person and service."""
    from caseapp.referrals.models import Referral
    from caseapp.screening.models import Case

    ids: dict[str, str] = {}
    with demo["app"].app_context():
        # the demo cases come first; synthetic persons may share their given names
        for case in db.session.scalars(sa.select(Case).order_by(Case.id.desc())):
            name = case.person.given_names
            if name not in ("Rosa", "Wilber", "Daniela"):
                continue
            ids[f"{name}:case"] = case.uuid
            ids[f"{name}:screening"] = case.screenings[-1].uuid
            for r in db.session.scalars(sa.select(Referral).where(Referral.case_id == case.id)):
                ids[f"{name}:{r.service_type}"] = r.uuid
    return ids


# -- staleness ---------------------------------------------------------------------------
def normalised(html: str) -> str:
    html = re.sub(r'<input[^>]*type="hidden"[^>]*>', "<hidden>", html)  # CSRF, submission ids
    html = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", html)
    html = re.sub(r"\b[0-9a-f]{16,}\b", "HEX", html)
    return re.sub(r"\d+", "0", html)


class Shots:
    def __init__(self) -> None:
        self.hashes: dict[str, str] = (
            json.loads(HASHES.read_text(encoding="utf-8")) if HASHES.exists() else {}
        )
        self.stale: list[str] = []
        self.taken: set[str] = set()

    def take(self, page: Any, name: str, selector: str | None = None, full: bool = False) -> None:
        page.wait_for_load_state("networkidle")
        target = page.locator(selector) if selector else page.locator("body")
        digest = hashlib.sha256(normalised(target.inner_html()).encode()).hexdigest()
        self.taken.add(name)
        png = IMAGES / f"{name}.png"
        if self.hashes.get(name) == digest and png.exists():
            return
        if CHECK:
            self.stale.append(name)
            return
        IMAGES.mkdir(parents=True, exist_ok=True)
        if selector:
            page.locator(selector).screenshot(path=str(png))
        else:
            page.screenshot(path=str(png), full_page=full)
        self.hashes[name] = digest

    def save(self) -> None:
        if not CHECK:
            kept = {k: v for k, v in sorted(self.hashes.items()) if k in self.taken}
            HASHES.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")


def test_guide_screenshots_are_current(browser: Any, demo: dict[str, Any]) -> None:
    ids, base, shots = _ids(demo), demo["url"], Shots()

    anonymous = browser.new_context(locale="es-PE", viewport=DESKTOP).new_page()
    anonymous.goto(f"{base}/login")
    shots.take(anonymous, "login")
    anonymous.context.close()

    page = _sign_in(browser, demo, "screener@pnp.demo")
    shots.take(page, "home")
    page.goto(f"{base}/screenings/new")
    shots.take(page, "screener-form")
    page.goto(f"{base}/screenings/{ids['Rosa:screening']}")
    shots.take(page, "screener-result", full=True)
    page.goto(f"{base}/cases/{ids['Rosa:case']}")
    shots.take(page, "screener-case")
    page.goto(f"{base}/cases/{ids['Rosa:case']}/consent")
    shots.take(page, "screener-consent")
    page.context.close()

    page = _sign_in(browser, demo, "gestora@pnp.demo")
    page.goto(f"{base}/referrals/outgoing")
    shots.take(page, "caseworker-outgoing")
    page.goto(f"{base}/referrals/{ids['Daniela:ngo_shelter']}")
    shots.take(page, "caseworker-referral")
    page.context.close()

    page = _sign_in(browser, demo, "diversa@ong.demo")
    page.goto(f"{base}/referrals/incoming")
    shots.take(page, "receiving-incoming")
    page.goto(f"{base}/referrals/{ids['Daniela:ngo_shelter']}")
    shots.take(page, "receiving-referral")
    page.context.close()
    page = _sign_in(browser, demo, "varones@ong.demo")
    page.goto(f"{base}/shelters/")
    shots.take(page, "receiving-shelter")
    page.context.close()

    page = _sign_in(browser, demo, "supervisor@pnp.demo")
    page.goto(f"{base}/referrals/escalations")
    shots.take(page, "supervisor-escalations")
    page.goto(f"{base}/screenings/{ids['Rosa:screening']}")
    shots.take(page, "supervisor-override", "#override")
    page.context.close()

    page = _sign_in(browser, demo, "statistician@inei.demo")
    page.goto(f"{base}/reports/?by1=sex&by2=age_group")
    shots.take(page, "statistician-reports", full=True)
    page.goto(f"{base}/reports/exports")
    shots.take(page, "statistician-exports")
    page.context.close()

    page = _sign_in(browser, demo, "admin@ruta.demo")
    page.goto(f"{base}/admin/users")
    shots.take(page, "admin-users")
    page.goto(f"{base}/admin/audit/")
    shots.take(page, "admin-audit")
    page.goto(f"{base}/directory/")
    shots.take(page, "admin-directory")
    page.context.close()

    shots.save()
    assert not shots.stale, (
        f"stale guide screenshots: {', '.join(shots.stale)}; refresh them with "
        "`pytest -m browser tests/browser/test_guide_screenshots.py` and commit docs/img/guide"
    )
    referenced = set()
    for guide in GUIDES.values():
        referenced |= set(re.findall(r"\(img/guide/([a-z0-9-]+)\.png\)", guide.read_text()))
    assert referenced == shots.taken, "every screenshot is used by the guides, and only these"


# -- the Ayuda links ------------------------------------------------------------------
PAGES = [
    ("screener@pnp.demo", "/screenings/new", "evaluadora-o-evaluador", "screener"),
    ("screener@pnp.demo", "/cases", "evaluadora-o-evaluador", "screener"),
    ("gestora@pnp.demo", "/referrals/outgoing", "gestora-o-gestor-de-casos", "caseworker"),
    ("diversa@ong.demo", "/referrals/incoming", "servicio-que-recibe-upe-car-albergue",
     "receiving-service-upe-car-shelter"),
    ("varones@ong.demo", "/shelters/", "servicio-que-recibe-upe-car-albergue",
     "receiving-service-upe-car-shelter"),
    ("supervisor@pnp.demo", "/referrals/escalations", "supervisora-o-supervisor", "supervisor"),
    ("statistician@inei.demo", "/reports/", "estadística", "statistician"),
    ("admin@ruta.demo", "/admin/audit/", "administradora-o-administrador", "administrator"),
    ("admin@ruta.demo", "/directory/", "administradora-o-administrador", "administrator"),
]  # fmt: skip


@pytest.mark.parametrize("lang", ["es", "en"])
def test_every_ayuda_link_opens_its_chapter(browser: Any, demo: dict[str, Any], lang: str):
    by_user: dict[str, list[tuple[str, str]]] = {}
    for email, path, es, en in PAGES:
        by_user.setdefault(email, []).append((path, es if lang == "es" else en))
    for email, pages in by_user.items():
        page = _sign_in(browser, demo, email, lang)
        for path, anchor in pages:
            page.goto(f"{demo['url']}{path}")
            page.locator("a.help-link").click()
            page.wait_for_load_state()
            url = urlparse(page.url)
            assert url.path == "/ayuda/" and unquote(url.fragment) == anchor, (path, page.url)
            heading = page.locator(f"[id='{anchor}']")
            assert heading.count() == 1 and heading.is_visible(), (path, anchor)
            title = "Guía de uso de Ruta" if lang == "es" else "Ruta user guide"
            assert page.get_by_role("heading", level=1).inner_text() == title
            images = page.locator("article.guide img")
            assert images.count() >= 10
            broken = page.evaluate(
                "[...document.querySelectorAll('article.guide img')]"
                ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
            )
            assert broken == [], broken
        page.context.close()
