"""Issue 14 item 1: the directory edit page round-trips its own list fields."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa

from caseapp.accounts.models import Organization
from caseapp.extensions import db


class _FormValues(HTMLParser):
    """What a browser would submit for the first form on a page, unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value") or "y"
            elif a.get("type") != "submit":
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a.get("name")
            self.values[self._textarea or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data.lstrip("\n")


def form_values(html: str) -> dict[str, Any]:
    parser = _FormValues()
    parser.feed(html)
    return parser.values


def _edit_url(code: str = "CEM-MDD") -> str:
    org = db.session.scalar(sa.select(Organization).where(Organization.code == code))
    return f"/directory/{code}/services/{org.services[0].id}/edit"


def test_directory_edit_prefills_lists_as_text_and_saves_unchanged(client, login_as):
    login_as("admin")
    url = _edit_url()
    page = client.get(url).get_data(as_text=True)
    values = form_values(page)
    assert values["languages"] == "es"
    assert values["nationalities"] == "" and values["serves"] == ""
    assert "[" not in values["languages"] + values["nationalities"] + values["serves"]
    saved = client.post(url, data=values)
    assert saved.status_code == 302, saved.get_data(as_text=True)


def test_directory_edit_errors_are_in_the_page_language(client, login_as):
    login_as("admin")
    url = _edit_url()
    values = form_values(client.get(url).get_data(as_text=True))
    values.update(languages="es;xx", nationalities="PERU", serves="nobody")
    bad = client.post(url, data=values)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "unknown language codes" not in html and "not ISO 3166" not in html
    assert "unknown profile tags" not in html
    assert "Códigos de idioma desconocidos: xx" in html
    assert "No es un código ISO 3166 alfa-3: PERU" in html
    assert "Perfiles desconocidos: nobody" in html
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.post(url, data=values).get_data(as_text=True)
    assert "Unknown language codes: xx" in english
    assert "Not an ISO 3166 alpha-3 code: PERU" in english
    assert "Unknown profile tags: nobody" in english
