"""API tokens: issue (with an expiry), check on every request, list and revoke.

Only the SHA-256 of the 256-bit secret is stored; the prefix (the first 12 characters)
identifies a token in lists and in the audit log. Whether a token is accepted is decided
by :func:`caseapp.accounts.rules.token_refusal` (docs/decisions/0013).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from caseapp.accounts import rules
from caseapp.accounts.models import ApiToken, User
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.db import utcnow
from caseapp.core.errors import Conflict, NotFound
from caseapp.extensions import db

TOKEN_PREFIX = "ruta_"  # noqa: S105 (a public prefix, not a secret)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=int(current_app.config["TOKEN_LIFETIME_DAYS"]))


def creation_problem(user: User) -> str | None:
    """Why no token may be made for ``user`` now (None: it may)."""
    if not user.is_active:
        return f"{user.email} is deactivated"
    if user.is_pending_approval:
        return f"{user.email} awaits the approval of a supervisor of its organization"
    if user.must_change_password:
        return f"{user.email} must first sign in and replace the initial password"
    if user.role in rules.TWO_FACTOR_ROLES and user.totp_enabled_at is None:
        return (
            f"{user.email} is a {user.role}: that role needs two-factor sign-in; the user "
            "must sign in and enrol an authenticator app (/account/2fa) first"
        )
    return None


def issue(actor: Actor | None, user: User, name: str = "") -> tuple[str, ApiToken]:
    """A new token and its row (the secret is returned once, never stored)."""
    if problem := creation_problem(user):
        raise Conflict(problem, code="token_refused")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        prefix=token[:12],
        name=name,
        created_at=now,
        expires_at=now + lifetime(),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "token.create",
        object_type="user",
        object_id=user.uuid,
        details={
            "prefix": token[:12],
            "token_id": row.id,
            "expires_at": row.expires_at.isoformat(),
        },
    )
    return token, row


def create_token(actor: Actor | None, user: User, name: str = "") -> str:
    return issue(actor, user, name)[0]


def facts(row: ApiToken) -> rules.TokenFacts:
    user = row.user
    return rules.TokenFacts(
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        user_role=user.role,
        user_is_active=user.is_active,
        user_is_pending_approval=user.is_pending_approval,
        password_changed_at=user.password_changed_at,
        totp_enabled_at=user.totp_enabled_at,
    )


def check(token: str) -> tuple[User | None, rules.TokenRefusal | None]:
    """The token's user when it is accepted; else None and, for a known token, why not."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None, None
    row = db.session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == _token_hash(token))
        # one round trip per API request: the token, its user and the user's
        # organization (which every scoped write reads: no second query for it)
        .options(joinedload(ApiToken.user).joinedload(User.organization))
    )
    if row is None:
        return None, None
    refusal = rules.token_refusal(facts(row), utcnow())
    if refusal is not None:
        return None, refusal
    return row.user, None


def user_for_token(token: str) -> User | None:
    return check(token)[0]


def status(row: ApiToken, now: datetime | None = None) -> str:
    """``active`` or the refusal code, for lists."""
    refusal = rules.token_refusal(facts(row), now or utcnow())
    return "active" if refusal is None else refusal.value


def list_tokens(user: User | None = None) -> list[ApiToken]:
    query = sa.select(ApiToken).options(joinedload(ApiToken.user)).order_by(ApiToken.id)
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(query))


def revoke(actor: Actor | None, token_id: int, *, user: User | None = None) -> ApiToken:
    """Revoke one token (of ``user`` when given: another user's token is not found)."""
    row = db.session.get(ApiToken, token_id)
    if row is None or (user is not None and row.user_id != user.id):
        raise NotFound("No such token", code="not_found")
    if row.revoked_at is not None:
        raise Conflict("This token is already revoked", code="already_revoked")
    row.revoked_at = utcnow()
    audit.record(
        actor,
        "token.revoke",
        object_type="user",
        object_id=row.user.uuid,
        details={"prefix": row.prefix, "token_id": row.id},
    )
    return row


def revoke_all(actor: Actor | None, user: User, *, why: str = "") -> int:
    """Revoke every token of ``user`` that is not revoked yet; the number revoked."""
    rows = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for row in rows:
        row.revoked_at = now
    if rows:
        audit.record(
            actor,
            "token.revoke_all",
            object_type="user",
            object_id=user.uuid,
            details={"prefixes": [r.prefix for r in rows], "why": why},
        )
    return len(rows)
