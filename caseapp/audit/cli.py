"""``flask audit verify`` and ``flask audit checkpoint`` (registered in caseapp/cli)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from caseapp.audit import checkpoints, services


def describe_failure(result: services.VerifyResult) -> str:
    if result.problem_code == "checkpoint_invalid":
        return f"audit verification failed: {result.problem}"
    return f"audit chain broken at event {result.broken_seq}: {result.problem}"


def describe_ok(result: services.VerifyResult, directory: Path) -> tuple[str, str | None]:
    """The ``audit chain ok (N events)`` line, and the checkpoint line (None: warn)."""
    first = f"audit chain ok ({result.count} events)"
    cp = result.checkpoint
    if cp is None:
        return first, None
    superseded = (
        f", {result.checkpoints_superseded} superseded by a restore"
        if result.checkpoints_superseded
        else ""
    )
    return first, (
        f"checkpoints ok: {result.checkpoints_checked} checked{superseded}; furthest "
        f"{cp.name} (event {cp.head_seq}, signed {cp.signed_at.isoformat()}) in {directory}"
    )


def verify_command(checkpoint_dir: Path | None) -> None:
    directory = checkpoint_dir or services.checkpoint_dir()
    result = services.verify(directory)
    if not result.ok:
        click.echo(describe_failure(result), err=True)
        sys.exit(1)
    first, second = describe_ok(result, directory)
    click.echo(first)
    if second is None:
        click.echo(
            f"warning: no checkpoint in {directory}; a deleted tail cannot be detected "
            "(run `flask audit checkpoint`)",
            err=True,
        )
    else:
        click.echo(second)


def checkpoint_command() -> None:
    """Refuses to sign a chain that does not verify: that would launder the tampering."""
    directory = services.checkpoint_dir()
    result = services.verify(directory)
    if not result.ok:
        click.echo(f"refusing to sign a checkpoint: {describe_failure(result)}", err=True)
        sys.exit(1)
    seq, head_hash = services.head()
    if seq != result.count:  # written meanwhile: sign what was verified, not beyond
        seq, head_hash = result.count, _hash_at(result.count)
    try:
        path = checkpoints.write_head(directory, seq, head_hash, seq)
    except OSError as exc:
        click.echo(f"error: checkpoint not written: {exc}", err=True)
        sys.exit(1)
    click.echo(f"checkpoint written: {path} (event {seq}, {seq} events)")


def _hash_at(seq: int) -> str:
    import sqlalchemy as sa

    from caseapp.audit.models import AuditEvent
    from caseapp.extensions import db

    if seq == 0:
        return services.GENESIS
    return str(db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == seq)))
