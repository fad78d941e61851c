"""``flask users deactivate|reactivate`` and ``flask tokens list|revoke`` (api.md §1).

Registered on the ``users`` and ``tokens`` groups of :mod:`caseapp.cli.commands`; each
command commits once, or rolls back. docs/decisions/0013-token-and-account-lifecycle.md.
"""

from __future__ import annotations

from datetime import datetime

import click

from caseapp.cli.commands import SYSTEM, _fail, tokens, users
from caseapp.core.errors import DomainError
from caseapp.extensions import db


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@users.command("deactivate")
@click.argument("email")
@click.option("--reason", default="", help="Why (left the organization, …); kept in the audit log.")
def deactivate_user(email: str, reason: str) -> None:
    """End EMAIL's account: its sessions and tokens stop working at once."""
    from caseapp.accounts import lifecycle

    try:
        user = lifecycle.get_user_by_email(email)
        revoked = lifecycle.deactivate(SYSTEM, user, reason=reason)
    except DomainError as exc:
        _fail(exc.message)
        return
    db.session.commit()
    click.echo(f"deactivated {user.email}; sessions ended, {revoked} token(s) revoked")


@users.command("reactivate")
@click.argument("email")
def reactivate_user(email: str) -> None:
    """Restore EMAIL's account (its old tokens stay revoked)."""
    from caseapp.accounts import lifecycle

    try:
        user = lifecycle.get_user_by_email(email)
        lifecycle.reactivate(SYSTEM, user)
    except DomainError as exc:
        _fail(exc.message)
        return
    db.session.commit()
    click.echo(f"reactivated {user.email}")


@tokens.command("list")
@click.argument("email", required=False)
def list_tokens(email: str | None) -> None:
    """List API tokens (all, or EMAIL's), never their secret."""
    from caseapp.accounts import lifecycle
    from caseapp.accounts import tokens as token_service

    try:
        user = lifecycle.get_user_by_email(email) if email else None
    except DomainError as exc:
        _fail(exc.message)
        return
    rows = token_service.list_tokens(user)
    click.echo(
        f"{'id':>5}  {'prefix':<12}  {'user':<32}  {'created':<20}  {'last used':<20}  "
        f"{'expires':<20}  {'revoked':<20}  status  name"
    )
    for row in rows:
        click.echo(
            f"{row.id:>5}  {row.prefix:<12}  {row.user.email:<32}  {_when(row.created_at):<20}  "
            f"{_when(row.last_used_at):<20}  {_when(row.expires_at):<20}  "
            f"{_when(row.revoked_at):<20}  {token_service.status(row)}  {row.name}"
        )
    click.echo(f"{len(rows)} token(s)")


@tokens.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "email", help="Revoke every token of this user instead.")
def revoke_tokens(token_id: int | None, email: str | None) -> None:
    """Revoke token TOKEN_ID (see `tokens list`), or all tokens of --user EMAIL."""
    from caseapp.accounts import lifecycle
    from caseapp.accounts import tokens as token_service

    if (token_id is None) == (email is None):
        _fail("give either TOKEN_ID or --user EMAIL")
        return
    try:
        if email is not None:
            user = lifecycle.get_user_by_email(email)
            count = token_service.revoke_all(SYSTEM, user, why="revoked by operator")
            message = f"revoked {count} token(s) of {user.email}"
        else:
            assert token_id is not None
            row = token_service.revoke(SYSTEM, token_id)
            message = f"revoked token {row.id} ({row.prefix}…) of {row.user.email}"
    except DomainError as exc:
        _fail(exc.message)
        return
    db.session.commit()
    click.echo(message)
