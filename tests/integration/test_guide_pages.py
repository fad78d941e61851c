"""Issue 14 item 15: the user guide is served at /ayuda/ in the reader's language, with
chapter anchors for every role, raw HTML escaped, and only the guide's images served."""

from __future__ import annotations

import re

import pytest

from caseapp.web.guide import CHAPTERS, chapter_for, slug


def test_guide_is_served_in_the_readers_language_with_every_chapter(app, client):
    spanish = client.get("/ayuda/").get_data(as_text=True)
    assert '<h1 id="guía-de-uso-de-ruta">Guía de uso de Ruta</h1>' in spanish
    with client.session_transaction() as session:
        session["lang"] = "en"
    english = client.get("/ayuda/").get_data(as_text=True)
    assert '<h1 id="ruta-user-guide">Ruta user guide</h1>' in english
    for chapter, ids in CHAPTERS.items():
        assert f'id="{ids["es"]}"' in spanish, chapter
        assert f'id="{ids["en"]}"' in english, chapter
    images = set(re.findall(r'<img src="(img/guide/[a-z0-9-]+\.png)"', spanish))
    assert len(images) >= 15
    for src in images:
        response = client.get(f"/ayuda/{src}")
        assert response.status_code == 200 and response.mimetype == "image/png", src


def test_every_page_links_help_to_its_chapter(app, client, login_as):
    signed_out = app.test_client().get("/login").get_data(as_text=True)
    assert '<a class="help-link" href="/ayuda/#primeros-pasos">Ayuda</a>' in signed_out
    login_as("screener")
    html = client.get("/screenings/new").get_data(as_text=True)
    assert '<a class="help-link" href="/ayuda/#evaluadora-o-evaluador">Ayuda</a>' in html


@pytest.mark.parametrize(
    ("endpoint", "role", "chapter"),
    [
        ("screening.new", "caseworker", "screener"),
        ("referrals.incoming", "caseworker", "receiving"),
        ("shelters.index", "caseworker", "receiving"),
        ("referrals.detail", "caseworker", "caseworker"),
        ("referrals.detail", "screener", "screener"),
        ("reports.gaps", "supervisor", "statistician"),
        ("audit.index", "admin", "admin"),
        ("web.home", "statistician", "statistician"),
        ("accounts.login", None, "start"),
    ],
)
def test_chapter_of_each_page(endpoint, role, chapter):
    assert chapter_for(endpoint, role) == chapter


def test_the_guide_escapes_html_and_refuses_script_links(app, client, tmp_path, monkeypatch):
    (tmp_path / "guia-de-uso.md").write_text(
        "# Título <b>negrita</b>\n\n<script>alert(1)</script>\n\n"
        "[enlace](javascript:alert(1)) ![x](img/guide/x.png)\n",
        encoding="utf-8",
    )
    monkeypatch.setitem(app.config, "GUIDE_DIR", str(tmp_path))
    html = client.get("/ayuda/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;negrita&lt;/b&gt;" in html
    assert 'href="javascript:' not in html
    assert 'id="título-bnegritab"' in html
    for bad in ("../user-guide.md", "..%2Fguia-de-uso.md", "x.svg", "X.png"):
        assert client.get(f"/ayuda/img/guide/{bad}").status_code == 404, bad


def test_slug_matches_github_ids():
    heading = "Servicio que recibe (UPE, CAR, albergue)"
    assert slug(heading) == "servicio-que-recibe-upe-car-albergue"
    assert slug("Estadística") == "estadística"
