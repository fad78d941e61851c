"""Two-factor sign-in (TOTP): enrolment, required roles, replay, recovery codes,
throttling, and no bypass through a password change."""

from __future__ import annotations

import time

import pyotp
import sqlalchemy as sa

from caseapp.accounts.models import RecoveryCode, User
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_from, login, totp_code


def password_step(client, email, password=PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def code_step(client, code):
    form = client.get("/login/2fa")
    if form.status_code != 200:
        return form
    return client.post(
        "/login/2fa", data={"code": code, "csrf_token": csrf_from(form.get_data(as_text=True))}
    )


def user_row(email):
    user = db.session.scalar(sa.select(User).where(User.email == email))
    db.session.refresh(user)
    return user


def test_required_role_must_enrol_before_using_ruta(client, users):
    boss = users.create("supervisor", two_factor=False)
    assert password_step(client, boss["email"]).status_code == 302
    for url in ("/", "/cases", "/directory/"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/2fa")
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "Su rol exige la verificación en dos pasos" in page

    start = client.post("/account/2fa", data={"action": "start", "csrf_token": csrf_from(page)})
    html = start.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html
    secret = user_row(boss["email"]).totp_secret
    assert secret and secret in html
    bad = client.post(
        "/account/2fa", data={"action": "confirm", "code": "000000", "csrf_token": csrf_from(html)}
    )
    assert bad.status_code == 422
    done = client.post(
        "/account/2fa",
        data={"action": "confirm", "code": totp_code(secret), "csrf_token": csrf_from(html)},
    )
    codes = [c.split("</code>")[0] for c in done.get_data(as_text=True).split("<code>")[1:]]
    assert len(codes) == 10
    assert client.get("/cases").status_code == 200
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(c.replace("-", "") for c in codes) & set(stored)
    raw = db.session.execute(
        sa.text("SELECT totp_secret FROM users WHERE email = :e"), {"e": boss["email"]}
    ).scalar()
    assert secret.encode() not in bytes(raw)


def test_password_alone_is_not_enough(client, users):
    boss = users.create("supervisor")
    response = password_step(client, boss["email"])
    assert response.headers["Location"].endswith("/login/2fa")
    assert client.get("/").status_code == 302  # not signed in yet
    assert code_step(client, "123456").status_code == 401
    assert code_step(client, totp_code(boss["totp_secret"])).status_code == 302
    assert client.get("/").status_code == 200


def test_a_used_code_is_rejected_on_replay(app, users):
    boss = users.create("supervisor")
    first, second = app.test_client(), app.test_client()
    code = totp_code(boss["totp_secret"], 1)
    password_step(first, boss["email"])
    assert code_step(first, code).status_code == 302
    password_step(second, boss["email"])
    replay = code_step(second, code)
    assert replay.status_code == 401
    assert "ya se usó" in replay.get_data(as_text=True)


def test_recovery_code_works_once(app, client, users):
    boss = users.create("admin", two_factor=False)
    from caseapp.accounts import two_factor

    user = user_row(boss["email"])
    secret = two_factor.start_enrolment(user)
    codes = two_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    db.session.commit()
    password_step(client, boss["email"])
    assert code_step(client, codes[0]).status_code == 302
    other = app.test_client()
    password_step(other, boss["email"])
    assert code_step(other, codes[0]).status_code == 401


def test_wrong_codes_lock_the_second_step(client, users):
    boss = users.create("statistician")
    password_step(client, boss["email"])
    for _ in range(5):
        code_step(client, "000000")
    locked = code_step(client, totp_code(boss["totp_secret"]))
    assert locked.status_code == 401
    assert "Demasiados intentos" in locked.get_data(as_text=True)


def test_password_change_does_not_remove_the_second_factor(client, users):
    boss = users.create("supervisor")
    assert login(client, boss["email"]).status_code == 302
    page = client.get("/account/password").get_data(as_text=True)
    client.post(
        "/account/password",
        data={
            "csrf_token": csrf_from(page),
            "current_password": PASSWORD,
            "new_password": "another long passphrase",
            "confirm": "another long passphrase",
        },
    )
    again = password_step(client, boss["email"], "another long passphrase")
    assert again.headers["Location"].endswith("/login/2fa")
    assert client.get("/").status_code == 302


def test_pending_second_step_dies_with_the_session_version(client, users):
    boss = users.create("supervisor")
    password_step(client, boss["email"])
    user = user_row(boss["email"])
    user.session_version += 1  # e.g. the password was changed meanwhile
    db.session.commit()
    response = code_step(client, totp_code(boss["totp_secret"]))
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_optional_for_screeners_and_only_they_can_switch_it_off(client, users):
    screener = users.create("screener", two_factor=True)
    login(client, screener["email"])
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "está activa" in page
    time.sleep(0)  # the next code is the next step: replay protection is per step
    off = client.post(
        "/account/2fa",
        data={
            "action": "disable",
            "csrf_token": csrf_from(page),
            "code": totp_code(screener["totp_secret"], 1),
        },
    )
    assert off.status_code == 302
    assert user_row(screener["email"]).totp_enabled_at is None

    boss = users.create("supervisor")
    other = client.application.test_client()
    login(other, boss["email"])
    page = other.get("/account/2fa").get_data(as_text=True)
    refused = other.post(
        "/account/2fa",
        data={
            "action": "disable",
            "csrf_token": csrf_from(page),
            "code": totp_code(boss["totp_secret"], 1),
        },
    )
    assert refused.status_code == 403
    assert user_row(boss["email"]).totp_enabled_at is not None


def test_cli_reset_for_a_lost_phone(app, users):
    boss = users.create("supervisor")
    result = app.test_cli_runner().invoke(
        args=["users", "reset-2fa", boss["email"], "--reason", "teléfono robado"]
    )
    assert result.exit_code == 0, result.output
    user = user_row(boss["email"])
    assert user.totp_enabled_at is None and user.totp_secret is None
