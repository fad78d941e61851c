"""``flask import run|batches|show|rollback|profiles`` (api.md §1, docs/imports.md).

Each command commits once, or rolls back; errors end with ``error: …`` on stderr and exit
code 1. The last line of ``run`` is a JSON summary (for scripts and the benchmark).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from caseapp.accounts.models import Organization
from caseapp.audit.services import SYSTEM
from caseapp.core.errors import DomainError
from caseapp.extensions import db
from caseapp.imports import profiles, services
from caseapp.imports.rules import ProfileError

import_group = AppGroup("import", help="Import existing registers through mapping profiles.")

#: problems printed on the terminal; the --report file has them all
SHOWN = 20


def register(app: Flask) -> None:
    app.cli.add_command(import_group)


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _profile(name: str) -> profiles.Profile:
    try:
        return profiles.load(name)
    except profiles.UnknownProfile:
        _fail(f"no profile named {name!r} (flask import profiles lists them)")
    except ProfileError as exc:
        _fail(str(exc))


class _Progress:
    """A progress bar when the file says how many rows it has (CSV, JSON, most XLSX);
    otherwise a count of the rows read every 10,000."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.rows = 0

    def __call__(self, n: int, total: int | None) -> None:
        self.rows += n
        if total and self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(n)
        elif self.rows % 10_000 < n:
            click.echo(f"{self.label}: {self.rows} rows read", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@import_group.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--profile", "profile_name", required=True, help="Mapping profile name.")
@click.option("--org", "org_code", required=True, help="Code of the importing organization.")
@click.option("--dry-run", is_flag=True, help="Check every row; import nothing.")
@click.option(
    "--skip-bad-rows", is_flag=True, help="Import the good rows; the report keeps the bad."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every problem (line, column, value, message) to this CSV file.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0, max=32),
    default=None,
    help="Processes that check and prepare rows (default: one per core; 0: none).",
)
def import_run(
    file: Path,
    profile_name: str,
    org_code: str,
    dry_run: bool,
    skip_bad_rows: bool,
    report_path: Path | None,
    workers: int | None,
) -> None:
    """Import FILE (CSV, XLSX or JSON) as the register of organization CODE."""
    profile = _profile(profile_name)
    organization = db.session.scalar(sa.select(Organization).where(Organization.code == org_code))
    if organization is None:
        _fail(f"no organization with code {org_code!r}")
    data = file.read_bytes()
    refused = False
    shown = _Progress(file.name)
    try:
        result = services.import_file(
            SYSTEM,
            organization,
            profile,
            data,
            filename=file.name,
            dry_run=dry_run,
            skip_bad_rows=skip_bad_rows,
            progress=shown,
            workers=services.workers_default() if workers is None else workers,
        )
    except services.ImportRefused as exc:
        result, refused = exc.result, True
    except DomainError as exc:
        _fail(str(exc))
    finally:
        shown.close()
    for problem in result.problems[:SHOWN]:
        click.echo(
            f"line {problem.line}, column {problem.column!r}, value {problem.value!r}: "
            f"{problem.message}",
            err=True,
        )
    if result.problems_count > SHOWN:
        click.echo(f"… and {result.problems_count - SHOWN} more problems", err=True)
    if report_path is not None:
        report_path.write_text(result.report_csv(), encoding="utf-8")
    summary = json.dumps(result.summary(), sort_keys=True)
    if refused:
        db.session.rollback()
        click.echo(summary)
        click.echo(
            f"error: {result.rows_bad} bad rows; nothing imported "
            "(fix them, or use --skip-bad-rows)",
            err=True,
        )
        sys.exit(1)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(summary)


@import_group.command("batches")
@click.option("--org", "org_code", default=None, help="Only this organization's batches.")
def import_batches(org_code: str | None) -> None:
    """List import batches, newest first."""
    for batch in services.list_batches(SYSTEM, limit=1000):
        if org_code and batch.organization.code != org_code:
            continue
        click.echo(
            f"{batch.uuid}  {batch.status:<11}  {batch.organization.code}  {batch.profile}  "
            f"rows={batch.rows_total} created={batch.rows_created} "
            f"existing={batch.rows_existing} bad={batch.rows_bad}  "
            f"{batch.created_at:%Y-%m-%d %H:%M}  {batch.filename}"
        )
    db.session.commit()


@import_group.command("show")
@click.argument("batch_id")
def import_show(batch_id: str) -> None:
    """Show one batch as JSON (its counts and where its problems are)."""
    try:
        batch = services.get_batch(SYSTEM, batch_id)
    except DomainError as exc:
        _fail(str(exc))
    click.echo(
        json.dumps(
            {
                "batch": batch.uuid,
                "status": batch.status,
                "organization": batch.organization.code,
                "profile": batch.profile,
                "register": batch.register,
                "list": batch.list_kind,
                "file": batch.filename,
                "file_sha256": batch.file_sha256,
                "rows": batch.rows_total,
                "created": batch.rows_created,
                "already_imported": batch.rows_existing,
                "bad_rows": batch.rows_bad,
                "problems": batch.problems_count,
                "created_at": batch.created_at.isoformat(),
                "imported_at": batch.imported_at.isoformat() if batch.imported_at else None,
                "rolled_back_at": (
                    batch.rolled_back_at.isoformat() if batch.rolled_back_at else None
                ),
            },
            sort_keys=True,
        )
    )
    db.session.commit()


@import_group.command("rollback")
@click.argument("batch_id")
def import_rollback(batch_id: str) -> None:
    """Remove the records a batch imported (refused once its cases were worked on)."""
    try:
        batch = services.rollback(SYSTEM, batch_id)
    except DomainError as exc:
        _fail(str(exc))
    db.session.commit()
    click.echo(f"batch {batch.uuid} rolled back ({batch.rows_created} records removed)")


@import_group.command("profiles")
def import_profiles() -> None:
    """List the mapping profiles (config/import/*.toml)."""
    for name in profiles.names():
        try:
            profile = profiles.load(name)
        except ProfileError as exc:
            click.echo(f"{name}  INVALID: {exc}")
            continue
        click.echo(
            f"{name}  format={profile.format} register={profile.register} "
            f"list={profile.list_kind}  {profile.title}"
        )
