"""Sign-in throttle: atomic counting, and locks per account + client address.

A stranger who types a user's e-mail with wrong passwords from their own address must
not lock the user out at the office; parallel wrong passwords must not slip past the
limit nor crash on the throttle row (issue 13, finding 7).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from caseapp.accounts import throttle
from caseapp.accounts.models import LoginThrottle
from caseapp.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.integration.test_concurrency import (  # noqa: F401 (race is a fixture)
    LOCK_TIMEOUT,
    POSTGRES,
    World,
    _blocked,
    race,
)

WRONG = "not the password at all"
INCORRECT = "Correo o contraseña incorrectos."
LOCKED = "Demasiados intentos"


def attempt(client: FlaskClient, email: str, password: str, address: str) -> tuple[int, str]:
    env = {"REMOTE_ADDR": address}
    page = client.get("/login", environ_base=env)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(page.get_data(True))},
        environ_base=env,
    )
    return response.status_code, response.get_data(as_text=True)


def answer(result: tuple[int, str]) -> str:
    status, html = result
    if status == 302:
        return "ok"
    if status == 401 and LOCKED in html:
        return "locked"
    if status == 401 and INCORRECT in html:
        return "incorrect"
    return f"status {status}"


def test_failures_from_one_address_do_not_lock_the_user_out_from_another(client, users, app: Flask):
    user = users.create("screener")
    stranger = [answer(attempt(client, user["email"], WRONG, "203.0.113.9")) for _ in range(6)]
    assert stranger == ["incorrect"] * 4 + ["locked"] * 2
    # the user at the office (another address) is not locked out
    assert answer(attempt(client, user["email"], PASSWORD, "198.51.100.20")) == "ok"
    # the stranger still is, even with the right password
    assert answer(attempt(app.test_client(), user["email"], PASSWORD, "203.0.113.9")) == "locked"


def test_the_throttle_rows_hold_keyed_hashes_not_the_address(client, users):
    user = users.create("screener")
    attempt(client, user["email"], WRONG, "203.0.113.9")
    keys = db.session.scalars(sa.select(LoginThrottle.account_key)).all()
    assert throttle.client_key(user["email"], "203.0.113.9") in keys
    assert throttle.account_key(user["email"]) in keys
    assert not any("203.0.113.9" in k or user["email"] in k for k in keys)


def test_many_addresses_together_lock_the_account_at_the_higher_limit(client, users, app: Flask):
    user = users.create("screener")
    app.config["LOGIN_MAX_FAILURES_ACCOUNT"] = 8
    try:
        answers = [
            answer(attempt(client, user["email"], WRONG, f"203.0.113.{n}")) for n in range(8)
        ]
        assert answers == ["incorrect"] * 7 + ["locked"]
        # now locked from everywhere, a fresh address and the right password included
        assert answer(attempt(client, user["email"], PASSWORD, "198.51.100.20")) == "locked"
    finally:
        app.config["LOGIN_MAX_FAILURES_ACCOUNT"] = 50


def hold_then_race(world: World, key: str, calls: list[Callable[[], Any]]) -> list[Any]:
    """Hold the account's throttle row, start ``calls`` at once, release when they queue.

    The app's connection pool has 15 connections (5 + 10 overflow): 15 requests wait on
    the row lock, the others for a connection; all of them race once it is released.
    """
    engine = sa.create_engine(
        sa.engine.make_url(str(world.app.config["SQLALCHEMY_DATABASE_URI"])), poolclass=sa.NullPool
    )
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            transaction = holder.begin()
            holder.execute(
                sa.text("SELECT id FROM login_throttles WHERE account_key = :key FOR UPDATE"),
                {"key": key},
            )
            start = threading.Barrier(len(calls))

            def run(call: Callable[[], Any]) -> Any:
                start.wait(timeout=LOCK_TIMEOUT)
                return call()

            with ThreadPoolExecutor(len(calls)) as pool:
                futures = [pool.submit(run, call) for call in calls]
                try:
                    _blocked(watcher, min(len(calls), 15))
                finally:
                    transaction.commit()
                return [f.result(timeout=LOCK_TIMEOUT * 4) for f in futures]
    finally:
        engine.dispose()


@pytest.mark.postgres
class TestParallelWrongPasswords:
    __test__ = POSTGRES

    def test_twenty_parallel_wrong_passwords_get_at_most_four_incorrect_answers(
        self,
        race: World,  # noqa: F811
    ) -> None:
        email = race.user("screener", "PNP-TRATA-MDD")
        # one failure from elsewhere creates the account's row, which the test then holds
        first = attempt(race.app.test_client(), email, WRONG, "192.0.2.1")
        assert answer(first) == "incorrect"
        with race.app.app_context():
            key = throttle.account_key(email)
        clients = [race.app.test_client() for _ in range(20)]
        results = hold_then_race(
            race,
            key,
            [lambda c=c: attempt(c, email, WRONG, "127.0.0.1") for c in clients],
        )
        answers = sorted(answer(r) for r in results)
        assert answers.count("incorrect") <= 4, answers
        assert answers.count("incorrect") + answers.count("locked") == 20, answers
        # locked now, even with the right password, from that address
        assert answer(attempt(race.app.test_client(), email, PASSWORD, "127.0.0.1")) == "locked"
