"""Sign-in, throttling, session renewal and expiry, password change, API tokens."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from flask import Flask

from caseapp.accounts.models import ApiToken, LoginThrottle
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_from, login


def session_cookie(client):
    cookie = client.get_cookie("ruta_session")
    return cookie.value if cookie else None


def test_login_page_is_spanish_and_has_csrf(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="es">' in html
    assert "Ingresar a Ruta" in html
    assert 'name="csrf_token"' in html


def test_successful_login_lands_on_spanish_home(client, users):
    user = users.create("screener")
    response = login(client, user["email"])
    assert response.status_code == 302
    home = client.get("/")
    assert home.status_code == 200
    assert "Bienvenida, bienvenido a Ruta" in home.get_data(as_text=True)


def test_wrong_password_and_unknown_account_get_the_same_answer(client, users):
    user = users.create("screener")
    wrong = login(client, user["email"], "not the password at all")
    unknown = login(client, "nobody@nowhere.test", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401

    def page(r):
        html = re.sub(r'value="[^"]*"', 'value=""', r.get_data(as_text=True))
        return html.replace(user["email"], "EMAIL").replace("nobody@nowhere.test", "EMAIL")

    assert "Correo o contraseña incorrectos." in page(wrong)
    assert page(wrong) == page(unknown)


def test_five_failures_lock_the_account_for_fifteen_minutes(client, users, app: Flask):
    user = users.create("screener")
    for _ in range(4):
        assert login(client, user["email"], "bad password 123").status_code == 401
    fifth = login(client, user["email"], "bad password 123")
    assert "Demasiados intentos" in fifth.get_data(as_text=True)
    # even the right password is refused while locked
    locked = login(client, user["email"], PASSWORD)
    assert locked.status_code == 401
    assert "Demasiados intentos" in locked.get_data(as_text=True)
    throttle = db.session.scalars(sa.select(LoginThrottle)).all()
    assert any(t.locked_until is not None for t in throttle)
    # after the lock expires the right password works again
    for t in throttle:
        t.locked_until = t.locked_until.replace(year=2000) if t.locked_until else None
    db.session.commit()
    assert login(client, user["email"], PASSWORD).status_code == 302


def test_unknown_accounts_lock_exactly_like_real_ones(client):
    for _ in range(5):
        login(client, "ghost@nowhere.test", "whatever password")
    html = login(client, "ghost@nowhere.test", "whatever password").get_data(as_text=True)
    assert "Demasiados intentos" in html


def test_login_issues_a_fresh_session(client, users):
    user = users.create("screener")
    client.get("/login")
    before = session_cookie(client)
    login(client, user["email"])
    after = session_cookie(client)
    assert before and after and before != after


def test_logout_ends_every_session_of_the_user(app, client, users):
    user = users.create("caseworker", "UPE-MDD")
    other = app.test_client()
    login(client, user["email"])
    login(other, user["email"])
    assert other.get("/").status_code == 200
    stolen = session_cookie(client)
    page = client.get("/")
    client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert client.get("/").status_code == 302
    assert other.get("/").status_code == 302, "the other browser must be signed out too"
    replay = app.test_client()
    replay.set_cookie("ruta_session", stolen)
    assert replay.get("/").status_code == 302, "a copied cookie dies at logout"


def test_password_change_ends_other_sessions(app, client, users):
    user = users.create("screener")
    other = app.test_client()
    login(client, user["email"])
    login(other, user["email"])
    page = client.get("/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": PASSWORD,
            "new_password": "a much newer passphrase",
            "confirm": "a much newer passphrase",
        },
    )
    assert response.status_code == 302
    assert other.get("/").status_code == 302
    assert login(client, user["email"], PASSWORD).status_code == 401
    assert login(client, user["email"], "a much newer passphrase").status_code == 302


def test_password_change_with_wrong_current_password_shows_error_summary(client, login_as):
    login_as("screener")
    page = client.get("/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page.get_data(as_text=True)),
            "current_password": "wrong one entirely",
            "new_password": "short",
            "confirm": "short",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hay un problema" in html
    assert 'href="#new_password"' in html


def test_idle_session_times_out(app, client, users, monkeypatch):
    user = users.create("screener")
    login(client, user["email"])
    assert client.get("/").status_code == 200
    idle = app.config["IDLE_TIMEOUT_MINUTES"] * 60
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + idle + 5)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_post_without_csrf_token_is_refused(client, users):
    user = users.create("screener")
    client.get("/login")
    response = client.post("/login", data={"email": user["email"], "password": PASSWORD})
    assert response.status_code == 400  # CSRF token missing: refused before the view runs
    assert client.get("/").status_code == 302
    login(client, user["email"])
    response = client.post("/logout", data={})
    assert response.status_code == 400
    assert client.get("/").status_code == 200, "logout without a token did nothing"


def test_open_redirect_after_login_is_blocked(client, users):
    user = users.create("screener")
    page = client.get("/login?next=https://evil.example/")
    response = client.post(
        "/login?next=https://evil.example/",
        data={
            "email": user["email"],
            "password": PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"] == "/"


# -- API tokens -------------------------------------------------------------------
def test_token_authenticates_api_and_only_its_hash_is_stored(api):
    caller = api("screener")
    response = caller.get("/api/v1/organizations?region=17")
    assert response.status_code == 200
    assert response.json["total"] > 0
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert caller.token not in stored
    assert all(len(h) == 64 for h in stored)


def test_bad_or_revoked_token_is_401(app, api):
    caller = api("screener")
    anon = app.test_client()
    for header in ("Bearer ruta_nope", "Bearer ", "Basic abc", caller.token):
        r = anon.get("/api/v1/organizations", headers={"Authorization": header})
        assert r.status_code == 401, header
    row = db.session.scalars(sa.select(ApiToken)).first()
    row.revoked_at = row.created_at
    db.session.commit()
    assert caller.get("/api/v1/organizations").status_code == 401


def test_api_ignores_session_cookies(client, login_as):
    """A signed-in browser cannot be ridden by a cross-site request to the API."""
    login_as("supervisor")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/organizations").status_code == 401
