"""The user guide in the app (`/ayuda/`): docs/guia-de-uso.md in Spanish, docs/user-guide.md
in English, one chapter per role; each page's "Ayuda" link opens its chapter.

The guide is our own file, rendered with markdown-it-py with raw HTML off (anything that
looks like HTML is shown as text) and its default link check (no ``javascript:`` URLs);
headings get ids (lower-case words joined by ``-``, as GitHub makes them) so chapters can
be linked. Screenshots live in docs/img/guide/ and are made by
tests/browser/test_guide_screenshots.py (ADR 0024).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from flask_login import current_user
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from caseapp.core.i18n import locale
from caseapp.core.security import public

bp = Blueprint("guide", __name__, url_prefix="/ayuda")

GUIDE_FILES = {"es": "guia-de-uso.md", "en": "user-guide.md"}

#: Chapter → heading id in each language (a test checks every id exists in the guide).
CHAPTERS: dict[str, dict[str, str]] = {
    "start": {"es": "primeros-pasos", "en": "getting-started"},
    "screener": {"es": "evaluadora-o-evaluador", "en": "screener"},
    "caseworker": {"es": "gestora-o-gestor-de-casos", "en": "caseworker"},
    "receiving": {
        "es": "servicio-que-recibe-upe-car-albergue",
        "en": "receiving-service-upe-car-shelter",
    },
    "supervisor": {"es": "supervisora-o-supervisor", "en": "supervisor"},
    "statistician": {"es": "estadística", "en": "statistician"},
    "admin": {"es": "administradora-o-administrador", "en": "administrator"},
}

#: The chapter of a page, by endpoint (exact) or blueprint (``name.``); else the user's role.
_CHAPTER_OF_PAGE = {
    "screening.new": "screener",
    "screening.result": "screener",
    "screening.cases": "screener",
    "screening.case": "screener",
    "screening.edit_case": "screener",
    "referrals.consent": "screener",
    "screening.override": "supervisor",
    "referrals.outgoing": "caseworker",
    "referrals.incoming": "receiving",
    "shelters.": "receiving",
    "admissions.": "receiving",
    "referrals.escalations": "supervisor",
    "accounts.pending_accounts": "supervisor",
    "imports.": "supervisor",
    "reports.": "statistician",
    "accounts.users": "admin",
    "accounts.user_detail": "admin",
    "audit.": "admin",
    "directory.": "admin",
}
_CHAPTER_OF_ROLE = {
    "screener": "screener",
    "caseworker": "caseworker",
    "supervisor": "supervisor",
    "statistician": "statistician",
    "admin": "admin",
}


def guide_dir() -> Path:
    """Where the guide is: ``GUIDE_DIR`` if configured, else the repository's docs/."""
    configured = current_app.config.get("GUIDE_DIR")
    return Path(configured) if configured else Path(current_app.root_path).parent / "docs"


def chapter_for(endpoint: str | None, role: str | None) -> str:
    endpoint = endpoint or ""
    if endpoint in _CHAPTER_OF_PAGE:
        return _CHAPTER_OF_PAGE[endpoint]
    blueprint = endpoint.split(".")[0] + "."
    if blueprint in _CHAPTER_OF_PAGE:
        return _CHAPTER_OF_PAGE[blueprint]
    return _CHAPTER_OF_ROLE.get(role or "", "start")


def help_anchor() -> str:
    """The heading id of this page's chapter in the reader's language."""
    role = current_user.role if current_user.is_authenticated else None
    return CHAPTERS[chapter_for(request.endpoint, role)][_language()]


def _language() -> str:
    return "en" if locale().startswith("en") else "es"


def slug(text: str) -> str:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to ``-``."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def _heading_ids(state: StateCore) -> None:
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and i + 1 < len(tokens):
            base = slug(tokens[i + 1].content)
            n = seen.get(base, 0)
            seen[base] = n + 1
            token.attrSet("id", base if n == 0 else f"{base}-{n}")


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.core.ruler.push("heading_ids", _heading_ids)
    return md


@lru_cache(maxsize=4)
def _render(path: str, mtime: float) -> str:
    return _markdown().render(Path(path).read_text(encoding="utf-8"))


def render_guide(language: str) -> str:
    path = guide_dir() / GUIDE_FILES[language]
    if not path.is_file():
        abort(404)
    return _render(str(path), path.stat().st_mtime)


@bp.get("/")
@public
def index() -> Any:
    """The guide in the reader's language; public, since it holds no case data."""
    language = _language()
    return render_template("guide.html", body=render_guide(language), language=language)


@bp.get("/img/guide/<path:name>")
@public
def image(name: str) -> Any:
    if not re.fullmatch(r"[a-z0-9-]+\.png", name):
        abort(404)
    return send_from_directory(guide_dir() / "img" / "guide", name, max_age=3600)
