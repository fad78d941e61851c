"""Issue 14 item 14: the demo shows the whole path out of the box — receiving-side users,
the statistician at an INEI-like organization, the admin at the Ruta operator, demo cases
walked through sent/accepted/admitted, and statistics with visible numbers — and none of
it can be made in production."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from caseapp.accounts.models import Organization, User
from caseapp.extensions import db
from caseapp.referrals.models import Referral
from caseapp.screening.models import Case
from caseapp.shelters.models import Admission
from tests.conftest import login


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _password(output: str, email: str) -> str:
    match = re.search(rf"{re.escape(email)}\s+(\S+)", output)
    assert match, output
    return match.group(1)


def _statuses(given_names: str) -> dict[str, str]:
    rows = db.session.execute(sa.select(Referral.service_type, Referral.status, Referral.case_id))
    cases = {c.id: c.person.given_names for c in db.session.scalars(sa.select(Case))}
    return {t: s for t, s, case_id in rows if cases[case_id] == given_names}


def test_demo_users_cover_every_role_and_the_receiving_side(app, db_tx):
    output = _run(app, "demo", "users")
    assert output.exit_code == 0, output.output
    lines = output.stdout.splitlines()
    assert lines[0] == "Demo users (role, e-mail, password, organization):"
    listed = {tuple(line.split()[i] for i in (0, 1, 3)) for line in lines[1:]}
    assert {
        ("screener", "screener@pnp.demo", "PNP-TRATA-MDD"),
        ("caseworker", "gestora@pnp.demo", "PNP-TRATA-MDD"),
        ("supervisor", "supervisor@pnp.demo", "PNP-TRATA-MDD"),
        ("caseworker", "caseworker@upe.demo", "UPE-MDD"),
        ("caseworker", "car@mimp.demo", "CARE-MDD"),
        ("caseworker", "varones@ong.demo", "ONG-REF-LIM-M"),
        ("caseworker", "diversa@ong.demo", "ONG-REF-LIM-D"),
        ("statistician", "statistician@inei.demo", "INEI-DEMO"),
        ("admin", "admin@ruta.demo", "RUTA-OPERADOR"),
    } == listed
    inei = db.session.scalar(sa.select(Organization).where(Organization.code == "INEI-DEMO"))
    assert inei is not None and "INEI" in inei.name and not inei.services
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@ruta.demo"))
    assert admin.organization.org_kind != "police"
    again = _run(app, "demo", "users")  # fresh passwords, no duplicate organizations
    assert again.exit_code == 0, again.output
    assert _password(again.stdout, "admin@ruta.demo") != _password(output.stdout, "admin@ruta.demo")


def test_demo_cases_walk_referrals_to_sent_accepted_and_admitted(app, db_tx):
    assert _run(app, "demo", "users").exit_code == 0
    output = _run(app, "demo", "cases")
    assert output.exit_code == 0, output.output
    assert "created 4 demo cases for PNP-TRATA-MDD, 9 referral steps" in output.stdout
    rosa, wilber, daniela = _statuses("Rosa"), _statuses("Wilber"), _statuses("Daniela")
    assert rosa["mimp_upe"] == "accepted" and rosa["car_specialized_trafficking"] == "accepted"
    assert wilber["ngo_shelter"] == "accepted"
    assert daniela["ngo_shelter"] == "sent"
    admitted = {a.service.organization.code for a in db.session.scalars(sa.select(Admission))}
    assert admitted == {"CARE-MDD", "ONG-REF-LIM-M"}
    assert "already present" in _run(app, "demo", "cases").stdout


def test_receiving_user_sees_the_sent_referral_at_once(app, db_tx):
    users = _run(app, "demo", "users").stdout
    assert _run(app, "demo", "cases").exit_code == 0
    client = app.test_client()
    response = login(client, "diversa@ong.demo", _password(users, "diversa@ong.demo"))
    assert response.status_code == 302
    incoming = client.get("/referrals/incoming").get_data(as_text=True)
    assert "Daniela" in incoming


def test_demo_statistics_show_numbers_out_of_the_box(app, users):
    assert _run(app, "demo", "users").exit_code == 0
    output = _run(app, "demo", "statistics")  # what scripts/demo.sh runs
    assert output.exit_code == 0, output.output
    assert "demo statistics: 2000 synthetic persons" in output.stdout
    assert "already present" in _run(app, "demo", "statistics").stdout
    statistician = users.create("statistician", "INEI-DEMO")  # enrolled in 2FA
    client = app.test_client()
    assert login(client, statistician["email"]).status_code == 302
    html = client.get("/reports/?by1=sex").get_data(as_text=True)
    cells = dict(re.findall(r"<td>(Femenino|Masculino)</td>\s*<td[^>]*>([^<]+)</td>", html))
    assert set(cells) == {"Femenino", "Masculino"}, html
    for label, value in cells.items():
        assert re.fullmatch(r"\s*[\d\s.,]+\s*", value), (label, value)  # a number, not hidden


@pytest.mark.parametrize("command", ["users", "cases", "statistics"])
def test_no_demo_data_in_production(app, db_tx, monkeypatch, command):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    users_before = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    monkeypatch.setitem(app.config, "ENV", "production")
    output = _run(app, "demo", command)
    assert output.exit_code == 1, output.output
    assert "production" in output.stderr
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Case)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == users_before


def test_production_app_does_not_even_offer_demo_statistics(monkeypatch):
    from flask import Flask

    from caseapp.cli import commands

    monkeypatch.setattr(commands.demo, "commands", dict(commands.demo.commands))
    commands.demo.commands.pop("statistics", None)
    app = Flask("probe")
    app.config["ENV"] = "production"
    commands._add_developer_commands(app)
    assert "statistics" not in commands.demo.commands and "synth" not in app.cli.commands
