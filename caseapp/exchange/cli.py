"""``flask export htcds`` and ``flask exchange import-htcds`` (docs/exchange.md).

Each command commits once, or rolls back: a file with any problem saves nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from caseapp.accounts.models import Organization
from caseapp.audit.services import SystemActor
from caseapp.core.errors import ValidationFailed
from caseapp.extensions import db

export_group = AppGroup("export", help="Export data in exchange formats.")
exchange_group = AppGroup("exchange", help="Import exchange files (HTCDS).")


def register(app: Flask) -> None:
    app.cli.add_command(export_group)
    app.cli.add_command(exchange_group)
    app.cli.add_command(directory_group)


def _organization(code: str) -> Organization:
    org = db.session.scalar(sa.select(Organization).where(Organization.code == code))
    if org is None:
        click.echo(f"error: no organization with code {code!r}", err=True)
        sys.exit(1)
    return org


def _write_private(path: Path, text: str) -> None:
    """The file holds personal data in clear: readable by its owner only (0600), like the
    backups; an existing file is replaced, never widened."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _actor(org: Organization) -> SystemActor:
    """The operator, acting for ``org`` (its cases are created and read as that org's)."""
    return SystemActor(email="system:cli", organization_id=org.id)


@export_group.command("htcds")
@click.option("--org", "org_code", required=True, help="Organization code (its cases only).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
def export_htcds(org_code: str, out: str) -> None:
    """Write every case of an organization as HTCDS 2.0 JSON (audited)."""
    from caseapp.exchange import htcds_export

    org = _organization(org_code)
    doc = htcds_export.export_cases(_actor(org), org)
    _write_private(Path(out), json.dumps(doc, ensure_ascii=False, indent=1))
    db.session.commit()
    click.echo(json.dumps({"cases": len(doc["cases"]), "file": out}))


@exchange_group.command("import-htcds")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--org", "org_code", required=True, help="The organization the cases belong to.")
@click.option("--dry-run", is_flag=True, help="Check the whole file; save nothing.")
def import_htcds(file: str, org_code: str, dry_run: bool) -> None:
    """Import the cases of an HTCDS 2.0 file as historical screenings (no referrals).

    Idempotent by the file's CaseId; any problem → every one listed as path: message, and
    nothing saved. The last line is a JSON summary."""
    from caseapp.exchange import htcds_import

    org = _organization(org_code)
    try:
        document = htcds_import.read_file(Path(file).read_bytes())
        result = htcds_import.import_cases(_actor(org), org, document, dry_run=dry_run)
    except ValidationFailed as exc:
        db.session.rollback()
        for path, messages in exc.fields.items():
            for message in messages:
                click.echo(f"{file}: {path}: {message}", err=True)
        click.echo(json.dumps({"created": 0, "unchanged": 0, "errors": len(exc.fields)}))
        sys.exit(1)
    for path, message in result.errors:
        click.echo(f"{file}: {path}: {message}", err=True)
    if result.errors or dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(json.dumps(result.summary()))
    if result.errors:
        sys.exit(1)


directory_group = AppGroup("directory", help="The service directory in exchange formats.")


@directory_group.command("export-hsds")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None)
def export_hsds(out: str | None) -> None:
    """Write the directory as Open Referral HSDS 3.0 JSON (stdout without --out)."""
    from caseapp.audit.services import SYSTEM
    from caseapp.exchange import hsds

    text = json.dumps(hsds.export_directory(SYSTEM), ensure_ascii=False, indent=1)
    db.session.commit()
    if out is None:
        click.echo(text)
        return
    Path(out).write_text(text, encoding="utf-8")
    click.echo(json.dumps({"file": out}))


@directory_group.command("import-hsds")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the whole file; save nothing.")
def import_hsds(file: str, dry_run: bool) -> None:
    """Load an HSDS 3.0 directory file (validated against the HSDS JSON schema); all or
    nothing. The last line is a JSON summary."""
    from caseapp.audit.services import SYSTEM
    from caseapp.exchange import hsds, htcds_import

    try:
        document = htcds_import.read_file(Path(file).read_bytes())
    except ValidationFailed as exc:
        for path, messages in exc.fields.items():
            click.echo(f"{file}: {path}: {'; '.join(messages)}", err=True)
        sys.exit(1)
    result = hsds.import_directory(SYSTEM, document, dry_run=dry_run)
    for path, message in result.errors:
        click.echo(f"{file}: {path}: {message}", err=True)
    if result.errors or dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(json.dumps({**result.summary(), "dry_run": dry_run}))
    if result.errors:
        sys.exit(1)
