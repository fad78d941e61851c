"""Issue 13, findings 2, 5 and 6: tokens can be revoked and expire and die with a password
change or a deactivation; a supervisor's token needs two-factor sign-in; an account an
admin creates with a case-reading role waits for a supervisor of its organization."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from caseapp.accounts.models import ApiToken, User
from caseapp.audit.models import AuditEvent
from caseapp.core.db import utcnow
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_from, login
from tests.integration.test_screening_api import ROSA

NEW_PASSWORD = "another long passphrase"


def user_row(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email))
    db.session.refresh(user)
    return user


def token_row(token: str) -> ApiToken:
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == token[:12]))
    db.session.refresh(row)
    return row


def bearer(app, token: str, url: str = "/api/v1/cases", method: str = "GET", body=None):
    return app.test_client().open(
        url, method=method, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def post_form(client, page_url: str, action_url: str, data: dict | None = None):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(
        action_url, data={**(data or {}), "csrf_token": csrf_from(page.get_data(as_text=True))}
    )


# -- finding 2: revocation, password change, expiry, deactivation ---------------------
def test_a_revoked_token_is_refused_at_once(app, db_tx, api):
    caller = api("screener")
    assert caller.get("/api/v1/cases").status_code == 200
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["tokens", "list", caller.user["email"]])
    assert listed.exit_code == 0, listed.output
    row = token_row(caller.token)
    assert row.prefix in listed.stdout and caller.token not in listed.stdout
    revoked = runner.invoke(args=["tokens", "revoke", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    refused = caller.get("/api/v1/cases")
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"
    assert refused.json["error"]["reason"] == "token_revoked"
    assert events("token.revoke")
    again = runner.invoke(args=["tokens", "revoke", str(row.id)])
    assert again.exit_code == 1 and "already revoked" in again.output


def test_revoke_all_tokens_of_a_user(app, db_tx, users):
    user = users.create("caseworker")
    first, second = users.token(user), users.token(user)
    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "--user", user["email"]])
    assert result.exit_code == 0 and "revoked 2 token(s)" in result.output
    assert bearer(app, first).status_code == 401
    assert bearer(app, second).status_code == 401


def test_a_password_change_kills_the_old_tokens(app, client, users):
    user = users.create("screener")
    token = users.token(user)
    assert bearer(app, token).status_code == 200
    assert login(client, user["email"]).status_code == 302
    changed = post_form(
        client,
        "/account/password",
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    refused = bearer(app, token)
    assert refused.status_code == 401
    assert refused.json["error"]["reason"] == "password_changed"
    fresh = app.test_cli_runner().invoke(args=["tokens", "create", user["email"]])
    assert bearer(app, fresh.stdout.strip().splitlines()[-1]).status_code == 200


def test_tokens_expire(app, db_tx, users):
    user = users.create("screener")
    created = app.test_cli_runner().invoke(args=["tokens", "create", user["email"]])
    assert created.exit_code == 0
    assert "expires" in created.output
    token = created.stdout.strip().splitlines()[-1]
    row = token_row(token)
    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(days=app.config["TOKEN_LIFETIME_DAYS"]) == timedelta(days=90)
    assert bearer(app, token).status_code == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    refused = bearer(app, token)
    assert refused.status_code == 401
    assert refused.json["error"]["reason"] == "token_expired"


def test_a_deactivated_user_loses_sessions_and_tokens_and_can_be_reactivated(app, users):
    user = users.create("caseworker")
    token = users.token(user)
    browser = app.test_client()
    assert login(browser, user["email"]).status_code == 302
    assert browser.get("/cases").status_code == 200
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "deactivate", user["email"], "--reason", "dejó la institución"]
    )
    assert result.exit_code == 0, result.output
    assert "1 token(s) revoked" in result.output
    gone = browser.get("/cases")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert bearer(app, token).status_code == 401
    assert login(app.test_client(), user["email"]).status_code == 401
    [event] = events("user.deactivate")
    assert json.loads(event.details)["reason"] == "dejó la institución" and event.is_flagged
    assert runner.invoke(args=["tokens", "create", user["email"]]).exit_code == 1

    assert runner.invoke(args=["users", "reactivate", user["email"]]).exit_code == 0
    assert events("user.reactivate")
    assert login(app.test_client(), user["email"]).status_code == 302
    assert bearer(app, token).status_code == 401  # the old token stays revoked
    assert runner.invoke(args=["users", "reactivate", user["email"]]).exit_code == 1


def test_admin_pages_revoke_tokens_and_deactivate(app, client, users, login_as):
    admin = login_as("admin")
    target = users.create("screener", "CEM-MDD")
    token = users.token(target)
    page_url = f"/admin/users/{target['uuid']}"
    page = client.get(page_url).get_data(as_text=True)
    row = token_row(token)
    assert row.prefix in page and token not in page
    revoked = post_form(client, page_url, f"{page_url}/tokens/{row.id}/revoke")
    assert revoked.status_code == 302
    assert bearer(app, token).status_code == 401

    second = users.token(target)
    no_reason = post_form(client, page_url, f"{page_url}/deactivate", {"reason": ""})
    assert no_reason.status_code == 422 and "Motivo" in no_reason.get_data(as_text=True)
    assert user_row(target["email"]).is_active
    done = post_form(client, page_url, f"{page_url}/deactivate", {"reason": "licencia"})
    assert done.status_code == 302
    assert not user_row(target["email"]).is_active
    assert bearer(app, second).status_code == 401
    [event] = events("user.deactivate")
    assert event.actor_email == admin["email"]

    back = post_form(client, page_url, f"{page_url}/reactivate")
    assert back.status_code == 302 and user_row(target["email"]).is_active
    own = f"/admin/users/{admin['uuid']}"
    refused = post_form(client, own, f"{own}/deactivate", {"reason": "x"})
    assert refused.status_code == 302 and user_row(admin["email"]).is_active


def test_another_users_token_cannot_be_revoked_through_a_users_page(app, client, users, login_as):
    login_as("admin")
    owner, other = users.create("screener"), users.create("screener")
    token = users.token(owner)
    wrong = f"/admin/users/{other['uuid']}"
    response = post_form(client, wrong, f"{wrong}/tokens/{token_row(token).id}/revoke")
    assert response.status_code == 404
    assert bearer(app, token).status_code == 200


# -- finding 6: two-factor for bearer tokens ----------------------------------------------
def test_no_token_for_a_supervisor_without_two_factor(app, db_tx, users):
    boss = users.create("supervisor", two_factor=False)
    result = app.test_cli_runner().invoke(args=["tokens", "create", boss["email"]])
    assert result.exit_code == 1
    assert "two-factor" in result.output
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_supervisor_token_dies_when_two_factor_is_reset(app, db_tx, api):
    screener = api("screener")
    doc = screener.post("/api/v1/screenings", json=ROSA).json
    boss = api("supervisor")
    override = f"/api/v1/screenings/{doc['id']}/override"
    body = {"status": "possible", "justification": "La edad no está confirmada todavía."}
    assert boss.get("/api/v1/cases").status_code == 200
    reset = app.test_cli_runner().invoke(
        args=["users", "reset-2fa", boss.user["email"], "--reason", "perdió el teléfono"]
    )
    assert reset.exit_code == 0
    for response in (boss.get("/api/v1/cases"), boss.post(override, json=body)):
        assert response.status_code == 401
        assert response.json["error"]["reason"] == "two_factor_required"
    assert not events("screening.override")


def test_a_token_of_a_never_enrolled_supervisor_is_refused(app, db_tx, users, api):
    """A token made before two-factor was enforced for tokens (inserted as it was)."""
    doc = api("screener").post("/api/v1/screenings", json=ROSA).json
    boss = users.create("supervisor", two_factor=False)
    legacy = "ruta_" + "L" * 43
    from caseapp.accounts.tokens import _token_hash

    now = utcnow()
    db.session.add(
        ApiToken(
            user_id=boss["id"],
            token_hash=_token_hash(legacy),
            prefix=legacy[:12],
            created_at=now,
            expires_at=now + timedelta(days=30),
        )
    )
    db.session.commit()
    body = {"status": "possible", "justification": "La edad no está confirmada todavía."}
    assert bearer(app, legacy).status_code == 401
    late = bearer(app, legacy, f"/api/v1/screenings/{doc['id']}/override", "POST", body)
    assert late.status_code == 401 and late.json["error"]["reason"] == "two_factor_required"


# -- finding 5: four eyes on accounts an admin creates -------------------------------------
def admin_creates(client, email: str, role: str, org: str, password: str = PASSWORD):
    return post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": email, "full_name": "", "role": role, "org": org, "password": password},
    )


def change_password(client, current: str, new: str):
    return post_form(
        client,
        "/account/password",
        "/account/password",
        {"current_password": current, "new_password": new, "confirm": new},
    )


def test_an_admin_created_screener_waits_for_a_supervisor_of_its_org(app, client, users, login_as):
    login_as("admin")
    created = admin_creates(client, "mole@pnp-trata-mdd.test", "screener", "PNP-TRATA-MDD")
    assert created.status_code == 302
    assert user_row("mole@pnp-trata-mdd.test").is_pending_approval
    assert events("user.pending_approval")

    # the admin signing in as it: the password they typed was never set; no session
    mole = app.test_client()
    assert login(mole, "mole@pnp-trata-mdd.test").status_code == 401
    assert mole.get("/cases").status_code == 302
    db.session.commit()  # the refused command rolls the test's session back to here
    refused = app.test_cli_runner().invoke(args=["tokens", "create", "mole@pnp-trata-mdd.test"])
    assert refused.exit_code == 1 and "approval" in refused.output

    # a supervisor of another organization neither sees nor approves it
    stranger = app.test_client()
    other_boss = users.create("supervisor", "PNP-TRATA-LIM")
    assert login(stranger, other_boss["email"]).status_code == 302
    assert "mole@" not in stranger.get("/accounts/pending").get_data(as_text=True)
    uuid = user_row("mole@pnp-trata-mdd.test").uuid
    approve = f"/accounts/pending/{uuid}/approve"
    assert post_form(stranger, "/accounts/pending", approve).status_code == 404
    assert user_row("mole@pnp-trata-mdd.test").is_pending_approval
    assert not events("user.approve")

    # the supervisor of its own organization approves it (audited) and receives the
    # initial password, shown once, to hand to the person
    own = app.test_client()
    boss = users.create("supervisor", "PNP-TRATA-MDD")
    assert login(own, boss["email"]).status_code == 302
    assert "mole@pnp-trata-mdd.test" in own.get("/accounts/pending").get_data(as_text=True)
    approved = post_form(own, "/accounts/pending", approve)
    assert approved.status_code == 200
    initial = approved.get_data(as_text=True).split("<code>")[1].split("</code>")[0]
    assert len(initial) >= 12 and initial != PASSWORD
    [event] = events("user.approve")
    assert event.actor_email == boss["email"] and event.object_id == uuid
    assert initial not in event.details
    row = user_row("mole@pnp-trata-mdd.test")
    assert not row.is_pending_approval and row.approved_at is not None
    assert post_form(own, "/accounts/pending", approve).status_code == 404  # once

    # the admin's password still does not work; the person's first sign-in must replace
    # the initial password before any page, and no token is issued before that
    assert login(app.test_client(), "mole@pnp-trata-mdd.test").status_code == 401
    person = app.test_client()
    assert login(person, "mole@pnp-trata-mdd.test", initial).status_code == 302
    first = person.get("/cases")
    assert first.status_code == 302 and first.headers["Location"].endswith("/account/password")
    db.session.commit()
    assert (
        app.test_cli_runner().invoke(args=["tokens", "create", "mole@pnp-trata-mdd.test"]).exit_code
        == 1
    )
    assert change_password(person, initial, initial).status_code == 422
    assert change_password(person, initial, NEW_PASSWORD).status_code == 302
    assert login(person, "mole@pnp-trata-mdd.test", NEW_PASSWORD).status_code == 302
    assert person.get("/cases").status_code == 200


def test_a_pending_account_gets_a_clear_message_and_no_session(app, client, login_as):
    """Nobody knows a pending account's password; should one be set (say, by a database
    restore), the right password still opens nothing, and says why."""
    login_as("admin")
    admin_creates(client, "wait@upe-mdd.test", "caseworker", "UPE-MDD")
    from caseapp.accounts import passwords

    user_row("wait@upe-mdd.test").password_hash = passwords.hash_password(PASSWORD)
    db.session.commit()
    waiting = app.test_client()
    response = login(waiting, "wait@upe-mdd.test")
    assert response.status_code == 403
    assert "aún no fue aprobada" in response.get_data(as_text=True)
    assert waiting.get("/").status_code == 302


def test_roles_without_case_data_need_no_approval(app, client, login_as):
    login_as("admin")
    admin_creates(client, "stats@pnp-trata-lim.test", "statistician", "PNP-TRATA-LIM")
    row = user_row("stats@pnp-trata-lim.test")
    assert not row.is_pending_approval and row.must_change_password
    person = app.test_client()
    assert login(person, "stats@pnp-trata-lim.test").status_code == 302
    assert person.get("/reports/").headers["Location"].endswith("/account/password")
    no_password = admin_creates(client, "nopw@pnp-trata-lim.test", "admin", "PNP-TRATA-LIM", "")
    assert no_password.status_code == 422
    assert "Contraseña inicial" in no_password.get_data(as_text=True)


def test_reactivation_does_not_skip_the_approval(app, client, login_as):
    login_as("admin")
    admin_creates(client, "sup@cem-mdd.test", "supervisor", "CEM-MDD")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "deactivate", "sup@cem-mdd.test"]).exit_code == 0
    assert runner.invoke(args=["users", "reactivate", "sup@cem-mdd.test"]).exit_code == 0
    assert user_row("sup@cem-mdd.test").is_pending_approval
    assert login(app.test_client(), "sup@cem-mdd.test").status_code == 401


def test_the_operators_cli_user_is_active_at_once(app, client):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "boot@cem.test",
            "--role",
            "screener",
            "--org",
            "CEM-MDD",
            "--password-stdin",
        ],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0
    assert not user_row("boot@cem.test").is_pending_approval
    assert login(client, "boot@cem.test").status_code == 302
    assert client.get("/cases").status_code == 200
    [event] = [e for e in events("user.create") if e.object_id == user_row("boot@cem.test").uuid]
    assert event.actor_email == "system:cli"
