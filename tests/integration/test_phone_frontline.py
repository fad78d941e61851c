"""Issue 14, item 13 and the phone form, below the browser: one status per referral row,
an audit pager that never leads to an empty page, keyboard-reachable table scroll regions
on every template, the form's closed parts opening when they hold a value or an error, and
one date format in both languages."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from caseapp.audit import services as audit
from caseapp.audit.models import AuditEvent
from caseapp.audit.views import PER_PAGE
from caseapp.core import codes
from caseapp.core.time import LIMA, lima_text
from caseapp.extensions import db
from tests.integration.test_screening_pages import ROSA_FORM, create_via_page, submit

TEMPLATES = Path(__file__).resolve().parents[2] / "caseapp" / "web" / "templates"
STATUS_CELL = re.compile(r'<td data-label="Estado">(.*?)</td>', re.DOTALL)

ADULT_WOMAN = {
    **ROSA_FORM,
    "person_given_names": "Maribel",
    "person_family_names": "Sánchez Ochoa",
    "person_age_years": "29",
    "person_document_type": "dni",
    "person_document_number": "45678123",
    "needs": ["shelter", "medical", "legal"],
}


def _status_cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", cell) for cell in STATUS_CELL.findall(html)]


def _statuses_in(cell: str) -> list[str]:
    labels = [item.label("es") for item in codes.get("referral_status")]
    labels.append("Requiere consentimiento")
    return [label for label in labels if label in cell]


def test_each_referral_row_shows_one_status(client, login_as):
    login_as("screener")
    for consent in ("yes", ""):  # consent recorded (ready) and not asked yet (waiting)
        uuid = create_via_page(client, {**ADULT_WOMAN, "consent_given": consent})
        html = client.get(f"/screenings/{uuid}").get_data(as_text=True)
        cells = _status_cells(html)
        assert cells, "no referral rows"
        for cell in cells:
            assert len(_statuses_in(cell)) == 1, cell
        shown = {s for cell in cells for s in _statuses_in(cell)}
        expected = "Lista para enviar" if consent else "Espera consentimiento"
        assert expected in shown, shown


def _events_on(html: str) -> int:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return body.count("<tr")


def _older_link(html: str) -> str | None:
    match = re.search(r'<a href="(/admin/audit/\?before=\d+)">Anteriores', html)
    return match.group(1) if match else None


def test_the_audit_pager_never_links_to_an_empty_page(client, login_as):
    login_as("admin")
    # 199 events: the second page holds 99 and must not offer a third.
    have = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    for n in range(2 * PER_PAGE - 1 - have):
        audit.record(None, "test.filler", object_type="test", object_id=n)
    db.session.commit()

    url: str | None = "/admin/audit/"
    pages = []
    while url is not None and len(pages) < 5:
        html = client.get(url).get_data(as_text=True)
        pages.append(_events_on(html))
        url = _older_link(html)
    total = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert all(n > 0 for n in pages), pages
    assert sum(pages) <= total and pages[0] == PER_PAGE
    assert pages == [PER_PAGE] * (len(pages) - 1) + [pages[-1]]
    assert len(pages) == -(-sum(pages) // PER_PAGE)  # no page beyond the last event


def test_every_table_scroll_region_is_reachable_by_keyboard_and_named(client, login_as):
    wraps = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<div class=\"table-wrap\"[^>]*>", path.read_text("utf-8")):
            wraps.append((path.name, tag))
    assert len(wraps) >= 15
    for name, tag in wraps:
        assert 'tabindex="0"' in tag and 'role="region"' in tag, (name, tag)
        assert re.search(r'aria-label="[^"]+"', tag), (name, tag)
    # And as the page renders it.
    login_as("admin")
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert '<div class="table-wrap" tabindex="0" role="region" aria-label="Tabla: Eventos">' in html


def test_the_form_opens_closed_parts_that_hold_a_value_or_an_error(client, login_as):
    login_as("screener")
    fresh = client.get("/screenings/new").get_data(as_text=True)
    for part in ("sec-person-more", "sec-indicators", "sec-context", "sec-notes"):
        assert re.search(rf'<details class="[^"]*" id="{part}">', fresh), part
    # Sex missing (an error in an open part), a sector (a value in «Contexto»), a document
    # type without its number (an error in «Más datos de la persona»).
    bad = {
        **ROSA_FORM,
        "person_sex": "",
        "indicators": [],
        "notes": "",
        "person_document_number": "",
        "context_trafficker_relation": "",
        "context_recruitment_method": "",
    }
    response = submit(client, bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<details class="[^"]*" id="sec-context" open>', html)
    assert re.search(r'<details class="[^"]*" id="sec-person-more" open>', html)
    assert re.search(r'<details class="[^"]*" id="sec-indicators">', html)
    assert re.search(r'<details class="[^"]*" id="sec-notes">', html)
    # The summary takes the focus without JavaScript.
    assert re.search(r'<div class="error-summary"[^>]*tabindex="-1" autofocus>', html)
    # Sex is one tap: radio buttons, the first one carrying the id the summary links to.
    assert 'type="radio" name="person_sex" id="person_sex" value="F"' in html


def test_dates_read_the_same_in_spanish_and_english():
    moment = datetime(2026, 11, 30, 13, 5, tzinfo=LIMA)
    assert lima_text(moment) == "30/11/2026 13:05"
    assert lima_text(moment, "en") == "30/11/2026 13:05"
    assert lima_text(moment, "es", weekday=True) == "lun 30/11/2026 13:05"
    assert lima_text(moment, "en", weekday=True) == "Mon 30/11/2026 13:05"
    assert lima_text(moment, with_time=False) == "30/11/2026"
    assert lima_text(moment.isoformat()) == "30/11/2026 13:05"
    assert lima_text(None, empty="—") == "—"
    assert lima_text("not a date") == "not a date"
