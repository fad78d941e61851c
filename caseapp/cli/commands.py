"""Flask CLI commands (api.md §1). Each command commits once, or rolls back."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from caseapp.audit.services import SYSTEM, SystemActor
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import ROLES
from caseapp.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(users)
    app.cli.add_command(tokens)
    app.cli.add_command(audit_group)
    app.cli.add_command(demo)
    app.cli.add_command(referrals_group)
    app.cli.add_command(reports_group)
    from caseapp.cli import accounts as _accounts  # noqa: F401 (users/tokens subcommands)
    from caseapp.reports.cli import estimate

    reports_group.add_command(estimate)
    from caseapp.facts.cli import linkage_group

    app.cli.add_command(linkage_group)
    _add_developer_commands(app)
    from caseapp.maintenance.cli import register as register_maintenance

    register_maintenance(app)  # keys, backup, retention
    from caseapp.imports.cli import register as register_imports

    register_imports(app)  # flask import …

    from caseapp.exchange.cli import register as register_exchange

    register_exchange(app)  # export htcds, exchange import-htcds, directory *-hsds


def _add_developer_commands(app: Flask) -> None:
    """`flask synth` comes from devtools/, outside the product package, and only where
    synthetic data may be made (never in production, where the command also refuses)."""
    if app.config["ENV"] == "production":
        return
    try:
        from devtools.synth.cli import synth
    except ImportError:  # an install without the developer tools
        return
    app.cli.add_command(synth)
    from devtools.synth.cli import demo_statistics

    demo.add_command(demo_statistics)


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.command("seed")
@click.option(
    "--directory",
    "directory_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Load this directory CSV instead of the demo directory.",
)
def seed(directory_file: str | None) -> None:
    """Load code lists, regions and the service directory (idempotent)."""
    from caseapp.directory import services

    n_codes = services.seed_codes()
    n_regions = services.seed_regions()
    path = Path(directory_file) if directory_file else services.DEFAULT_DIRECTORY
    try:
        rows = services.read_csv(path.read_text(encoding="utf-8"))
    except ValidationFailed as exc:
        _fail(f"{path}: {exc.fields}")
        return
    result = services.load_directory(SYSTEM, rows)
    if result.errors:
        db.session.rollback()
        for line, fields in sorted(result.errors.items()):
            for name, messages in fields.items():
                click.echo(f"{path}:{line}: {name}: {'; '.join(messages)}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"seeded {n_codes} codes, {n_regions} regions, "
        f"{result.created} new and {result.updated} updated organizations from {path.name}"
    )


users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--org", "org_code", required=True, help="Organization code (directory.csv).")
@click.option("--name", "full_name", default="", help="Full name shown in the interface.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, role: str, org_code: str, full_name: str, password_stdin: bool) -> None:
    """Create a user of organization ORG with ROLE."""
    from caseapp.accounts import services

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            SYSTEM,
            email=email,
            role=role,
            org_code=org_code,
            password=password,
            full_name=full_name,
        )
    except ValidationFailed as exc:
        _fail("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items()))
        return
    db.session.commit()
    click.echo(f"created {user.email} ({role}, {org_code})")


tokens = AppGroup("tokens", help="Manage API tokens.")


@tokens.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
def create_token(email: str, name: str) -> None:
    """Print a new API token for EMAIL (only its hash is stored)."""
    from caseapp.accounts import services

    user = services.get_user_by_email(email)
    if user is None:
        _fail(f"no user {email}")
        return
    from caseapp.accounts import tokens as token_service
    from caseapp.core.errors import DomainError

    try:
        token, row = token_service.issue(SYSTEM, user, name)
    except DomainError as exc:  # deactivated, pending approval, or 2FA not enrolled
        _fail(exc.message)
        return
    db.session.commit()
    click.echo(
        f"token {row.id} for {user.email}, expires {row.expires_at:%Y-%m-%d %H:%M} UTC "
        "(shown once, store it safely):",
        err=True,
    )
    click.echo(token)


audit_group = AppGroup("audit", help="Audit log.")


@audit_group.command("verify")
@click.option(
    "--checkpoint-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Check against the checkpoints in this directory (e.g. a copy fetched from "
    "write-once storage) instead of AUDIT_CHECKPOINT_DIR.",
)
def audit_verify(checkpoint_dir: Path | None) -> None:
    """Check the audit chain (keyed hashes) and the signed checkpoints."""
    from caseapp.audit.cli import verify_command

    verify_command(checkpoint_dir)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Verify the chain, then sign its head into AUDIT_CHECKPOINT_DIR (cron: every 15 min)."""
    from caseapp.audit.cli import checkpoint_command

    checkpoint_command()


@audit_group.command("public-key")
def audit_public_key() -> None:
    """Print the checkpoint verification key (base64; CASEAPP_AUDIT_VERIFY_KEY)."""
    import base64

    from caseapp.audit.checkpoints import public_key_bytes

    click.echo(base64.b64encode(public_key_bytes()).decode())


DEMO_USERS = (
    ("screener@pnp.demo", "screener", "PNP-TRATA-MDD", "Sub. Carmen Huamán (PNP)"),
    ("gestora@pnp.demo", "caseworker", "PNP-TRATA-MDD", "Sof. Marta Quispe (PNP)"),
    ("supervisor@pnp.demo", "supervisor", "PNP-TRATA-MDD", "Cap. Jorge Ramos (PNP)"),
    # the receiving side: the UPE, a CAR, NGO shelters for adult men and for LGBTIQ+ people
    ("caseworker@upe.demo", "caseworker", "UPE-MDD", "Lucía Flores (UPE)"),
    ("car@mimp.demo", "caseworker", "CARE-MDD", "Rocío Vargas (CAR)"),
    ("varones@ong.demo", "caseworker", "ONG-REF-LIM-M", "Pedro Salas (albergue de varones)"),
    ("diversa@ong.demo", "caseworker", "ONG-REF-LIM-D", "Alex Medina (Casa Diversa)"),
    ("statistician@inei.demo", "statistician", "INEI-DEMO", "Ana Torres (INEI)"),
    ("admin@ruta.demo", "admin", "RUTA-OPERADOR", "Administración Ruta"),
)


@click.group("demo")
def demo() -> None:
    """Demo data for a local trial (never on a production database)."""


@demo.command("users")
def demo_users() -> None:
    """Create the demo users, or give them fresh passwords, and print them."""
    from flask import current_app

    from caseapp.accounts import passwords, services
    from caseapp.cli import demo as demo_data
    from caseapp.core.db import utcnow

    if current_app.config["ENV"] == "production":
        _fail("demo users are not created in production")
    demo_data.ensure_organizations()
    lines = []
    for email, role, org, name in DEMO_USERS:
        password = "-".join(secrets.token_hex(3) for _ in range(3))
        user = services.get_user_by_email(email)
        try:
            if user is None:
                services.create_user(
                    SYSTEM, email=email, role=role, org_code=org, password=password, full_name=name
                )
            else:
                user.password_hash = passwords.hash_password(password)
                user.password_changed_at = utcnow()  # their old tokens die too
                services.end_all_sessions(user)
        except ValidationFailed as exc:
            _fail(f"{email}: {exc.fields}")
        lines.append(f"  {role:<13} {email:<24} {password:<20} {org}")
    db.session.commit()
    click.echo("Demo users (role, e-mail, password, organization):")
    for line in lines:
        click.echo(line)


referrals_group = AppGroup("referrals", help="Referral follow-up.")


@referrals_group.command("escalate")
def referrals_escalate() -> None:
    """Escalate overdue mandatory referrals to the referring organization's supervisors
    (each once). Suitable for cron, e.g. every 15 minutes."""
    from caseapp.referrals import services

    escalated = services.escalate_overdue(SystemActor(email="system:escalation"))
    db.session.commit()
    click.echo(f"escalated {len(escalated)} overdue mandatory referral(s)")


DEMO_CASES: tuple[dict[str, object], ...] = (
    {
        "identified_at": "2026-03-14T22:30:00-05:00",
        "region": "17",
        "identification_context": "police_operation",
        "person": {
            "given_names": "Rosa",
            "family_names": "Quispe Mamani",
            "sex": "F",
            "age_years": 16,
            "age_estimated": True,
            "nationality": ["PER"],
            "languages": ["es", "qu"],
            "document": {"type": "dni", "number": "71234567"},
        },
        "acts": ["recruitment", "transport"],
        "means": ["deception"],
        "purposes": ["sexual_exploitation"],
        "indicators": ["withholds_documents"],
        "context": {
            "sector": "hospitality_bars",
            "origin_region": "08",
            "exploitation_region": "17",
            "recruitment_method": "job_offer",
        },
        "needs": ["shelter", "medical"],
    },
    {
        "identified_at": "2026-04-02T10:00:00-05:00",
        "region": "17",
        "identification_context": "labour_inspection",
        "person": {
            "given_names": "Wilber",
            "family_names": "Condori",
            "sex": "M",
            "age_years": 34,
            "nationality": ["PER"],
            "languages": ["qu"],
        },
        "acts": ["recruitment", "harbouring"],
        "means": ["deception", "payments_or_benefits"],
        "purposes": ["forced_labour"],
        "indicators": ["debt_bondage", "restricts_movement"],
        "context": {"sector": "mining", "recruitment_method": "job_offer"},
        "needs": ["shelter", "legal"],
        "consent": {"given": True, "scope": ["all"], "given_by": "person", "method": "verbal"},
    },
    {
        "identified_at": "2026-05-20T16:00:00-05:00",
        "region": "17",
        "identification_context": "ngo_outreach",
        "person": {
            "given_names": "Daniela",
            "family_names": "Rojas",
            "sex": "M",
            "gender_identity": "trans_feminine",
            "age_years": 22,
            "nationality": ["VEN"],
            "migration_status": "irregular",
            "languages": ["es"],
        },
        "acts": ["receipt"],
        "means": ["abuse_of_vulnerability"],
        "purposes": ["sexual_exploitation"],
        "needs": ["shelter", "psychological"],
    },
    {
        "identified_at": "2026-06-01T09:15:00-05:00",
        "region": "17",
        "identification_context": "hotline",
        "person": {"sex": "F", "appears_minor": True, "nationality": ["PER"]},
        "acts": ["transport"],
        "means": [],
        "purposes": [],
        "indicators": ["restricts_movement"],
        "needs": [],
    },
)


@demo.command("cases")
def demo_cases() -> None:
    """Create a few illustrative cases for the demo screener's organization (once)."""
    import sqlalchemy as sa
    from flask import current_app

    from caseapp.accounts import services as accounts
    from caseapp.cli import demo as demo_data
    from caseapp.intake import services as intake
    from caseapp.screening.models import Case
    from caseapp.screening.schema import parse_screening

    if current_app.config["ENV"] == "production":
        _fail("demo cases are not created in production")
    actor = accounts.get_user_by_email(DEMO_USERS[0][0])
    if actor is None:
        _fail("run `flask demo users` first")
        return
    if db.session.scalar(sa.select(sa.func.count(Case.id))):
        click.echo("demo cases already present")
        return
    screenings = [intake.screen_person(actor, parse_screening(p)) for p in DEMO_CASES]
    receivers = [accounts.get_user_by_email(email) for email, role, *_ in DEMO_USERS]
    try:
        steps = demo_data.walk_cases(actor, [u for u in receivers if u], screenings)
    except LookupError as exc:
        _fail(f"demo walk: {exc}")
    db.session.commit()
    click.echo(
        f"created {len(DEMO_CASES)} demo cases for {actor.organization.code}, "
        f"{steps} referral steps (sent, accepted, admitted)"
    )


reports_group = AppGroup("reports", help="Statistics maintenance.")


@reports_group.command("relink")
def reports_relink() -> None:
    """Re-estimate the linkage model and recompute unduplicated persons from the stored
    keyed encodings (docs/linkage.md)."""
    import time

    from caseapp.facts import services as facts

    started = time.perf_counter()
    screenings, persons = facts.relink_all()
    db.session.commit()
    click.echo(
        f"linked {screenings} screenings into {persons} persons "
        f"in {time.perf_counter() - started:.1f} s"
    )


@reports_group.command("rebuild")
def reports_rebuild() -> None:
    """Write missing statistics facts (e.g. after restoring an old backup), then relink."""
    import sqlalchemy as sa

    from caseapp.facts import services as facts
    from caseapp.facts.models import ScreeningFact
    from caseapp.screening.models import Screening

    missing = db.session.scalars(
        sa.select(Screening).where(~sa.exists().where(ScreeningFact.screening_id == Screening.id))
    ).all()
    for screening in missing:
        facts.record(screening)
    screenings, persons = facts.relink_all()
    db.session.commit()
    click.echo(f"wrote {len(missing)} missing facts; {screenings} screenings, {persons} persons")


@users.command("reset-2fa")
@click.argument("email")
@click.option("--reason", required=True, help="Why (lost phone, …); kept encrypted.")
def reset_two_factor(email: str, reason: str) -> None:
    """Remove a user's two-factor enrolment (lost phone). They must enrol again."""
    from caseapp.accounts import services, two_factor

    user = services.get_user_by_email(email)
    if user is None:
        _fail(f"no user {email}")
        return
    two_factor.disable(user, SYSTEM, reason=reason)
    db.session.commit()
    click.echo(f"two-factor sign-in reset for {user.email}; all their sessions ended")
