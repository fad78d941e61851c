"""``flask keys``, ``flask backup`` and ``flask retention`` (docs/decisions/0009).

Errors end with ``error: …`` on stderr and exit code 1, after a rollback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup

from caseapp.audit.services import SystemActor
from caseapp.core.errors import DomainError, ValidationFailed
from caseapp.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(keys_group)
    app.cli.add_command(backup_group)
    app.cli.add_command(retention_group)


def _actor() -> SystemActor:
    from caseapp.audit.services import SYSTEM

    return SYSTEM


def _fail(message: str) -> NoReturn:
    db.session.rollback()
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


# -- keys -------------------------------------------------------------------------------
keys_group = AppGroup("keys", help="Data-key rotation (personal data encryption).")


@keys_group.command("generate")
def keys_generate() -> None:
    """Print a fresh key: base64 of 32 random bytes (last line of stdout)."""
    from caseapp.maintenance.keys import generate_key

    click.echo(
        "new key (store it in your secret manager; set it as CASEAPP_DATA_KEY with a new "
        "CASEAPP_DATA_KEY_ID, and move the old key to CASEAPP_OLD_DATA_KEYS):",
        err=True,
    )
    click.echo(generate_key())


@keys_group.command("status")
def keys_status() -> None:
    """Count the encrypted values per key id (reads no plaintext, changes nothing)."""
    from caseapp.maintenance import keys

    result = keys.rotate(None, dry_run=True)
    for col in result.columns:
        counts = " ".join(f"{k}={n}" for k, n in sorted(col.by_key.items())) or "empty"
        click.echo(f"{col.name}: {counts}")
    old = {k: n for k, n in result.by_key.items() if k != result.key_id}
    if old:
        listed = ", ".join(f"{n} under {k}" for k, n in sorted(old.items()))
        click.echo(f"current key {result.key_id}; {listed}: run `flask keys rotate`")
    else:
        click.echo(f"every value is under the current key {result.key_id}")


@keys_group.command("rotate")
@click.option("--batch-size", type=click.IntRange(min=1), default=2000, show_default=True)
def keys_rotate(batch_size: int) -> None:
    """Re-encrypt every value that is not under the current data key (idempotent; safe
    while the application runs; commits after each batch)."""
    from caseapp.maintenance import keys

    try:
        result = keys.rotate(_actor(), batch_size=batch_size, on_batch=db.session.commit)
    except keys.RotationError as exc:
        _fail(str(exc))
    db.session.commit()
    for col in result.columns:
        current = col.by_key.get(result.key_id, 0)
        click.echo(
            f"{col.name}: {col.rotated} re-encrypted, {current} already under {result.key_id}"
        )
    click.echo(f"re-encrypted {result.rotated} value(s) under data key {result.key_id}")
    # the linkage encodings are keyed with INDEX_KEY: encode them again under the
    # current one (same as `flask linkage reencode`)
    from caseapp.facts import services as facts

    encoded = facts.reencode_all()
    db.session.commit()
    click.echo(f"re-encoded {encoded} linkage record(s) under the current index key")


# -- backup -----------------------------------------------------------------------------
backup_group = AppGroup("backup", help="Encrypted backups of the whole database.")


@backup_group.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(file: Path) -> None:
    """Write an encrypted snapshot of the database to FILE (a new file)."""
    from caseapp.maintenance import backup

    try:
        info = backup.create_backup(_actor(), file)
    except backup.BackupError as exc:
        _fail(str(exc))
    db.session.commit()
    h = info.header
    click.echo(
        f"wrote {info.path} ({info.archive_size} bytes): {h.kind} database at revision "
        f"{h.revision}, encrypted under data key {h.key_id}"
    )


@backup_group.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_verify(file: Path) -> None:
    """Decrypt and authenticate FILE with the configured keys (changes nothing)."""
    from caseapp.maintenance import backup

    try:
        h = backup.verify_archive(file)
    except backup.BackupError as exc:
        _fail(str(exc))
    click.echo(
        f"{file}: ok — {h.kind} backup of {h.created_at}, revision {h.revision}, "
        f"data key {h.key_id}"
    )


@backup_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def backup_restore(file: Path, yes: bool) -> None:
    """Replace the configured database with the content of FILE.

    Stop the application first. The archive is fully authenticated before anything
    is replaced; a tampered or wrongly keyed archive changes nothing.
    """
    from caseapp.audit import services as audit
    from caseapp.maintenance import backup

    def confirm(header: backup.Header, target: str) -> bool:
        if yes:
            return True
        return click.confirm(
            f"Replace ALL data in {target} with the {header.kind} backup of "
            f"{header.created_at} (revision {header.revision})?",
            default=False,
            err=True,
        )

    try:
        result = backup.restore_backup(_actor(), file, confirm=confirm)
    except backup.BackupError as exc:
        _fail(str(exc))
    restored_head = audit.head()[0]  # before the backup.restore event is appended
    db.session.commit()
    h = result.header
    click.echo(f"restored the {h.kind} backup of {h.created_at} into {result.target}")
    _mark_restore(restored_head)
    if not result.up_to_date:
        click.echo(
            f"the archive is at schema revision {h.revision}: run `flask db upgrade` now, "
            "then `flask audit verify`",
            err=True,
        )
        return  # an older archive's chain is verified (and keyed) by the upgrade
    check = audit.verify()
    if not check.ok:
        _fail(f"audit chain broken at event {check.broken_seq}: {check.problem}")
    click.echo(f"audit chain ok ({check.count} events)")


def _mark_restore(rollback_to: int) -> None:
    """A signed note that the audit chain was set back on purpose (docs/decisions/0012)."""
    from caseapp.audit import checkpoints
    from caseapp.audit import services as audit

    try:
        path = checkpoints.write_restore(audit.checkpoint_dir(), rollback_to)
    except OSError as exc:
        _fail(f"restore checkpoint not written: {exc}")
    click.echo(f"restore checkpoint written: {path} (audit chain set back to event {rollback_to})")


# -- retention --------------------------------------------------------------------------
retention_group = AppGroup("retention", help="Retention of personal data; legal holds.")


@retention_group.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; change nothing.")
def retention_purge(dry_run: bool) -> None:
    """Purge the personal data of cases past the retention periods (RETENTION_DAYS_*);
    anonymous statistics stay. Suitable for a daily cron job."""
    from caseapp.maintenance import retention

    try:
        policy = retention.RetentionPolicy.from_config()
    except ValueError as exc:
        _fail(str(exc))
    result = retention.purge(_actor(), policy=policy, dry_run=dry_run, on_batch=db.session.commit)
    db.session.commit()
    verb = "would purge" if dry_run else "purged"
    click.echo(f"policy: {policy.describe()}")
    for c in result.candidates:
        click.echo(f"{verb} case {c.uuid} ({c.rule})")
    rules = ", ".join(f"{r}: {n}" for r, n in sorted(result.by_rule.items())) or "none"
    click.echo(f"{verb} {len(result.candidates)} case(s) ({rules})")
    click.echo(
        f"{'would delete' if dry_run else 'deleted'} {result.idempotency_records} "
        "idempotency record(s) older than 24 h"
    )


@retention_group.command("hold")
@click.argument("case_uuid")
@click.option("--reason", required=True, help="The order or proceeding (no personal data).")
@click.option("--release", is_flag=True, help="Release the hold instead of placing it.")
def retention_hold(case_uuid: str, reason: str, release: bool) -> None:
    """Place (or --release) a legal hold on a case: a held case is never purged."""
    from caseapp.maintenance import retention

    try:
        case = retention.set_legal_hold(_actor(), case_uuid, not release, reason)
    except ValidationFailed as exc:
        _fail("; ".join(f"{k}: {', '.join(v)}" for k, v in exc.fields.items()))
    except DomainError as exc:
        _fail(exc.message)
    db.session.commit()
    state = "under legal hold" if case.legal_hold else "no longer under legal hold"
    click.echo(f"case {case.uuid} is {state}")
