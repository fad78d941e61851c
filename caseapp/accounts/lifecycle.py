"""Account lifecycle: four-eyes approval, deactivation and reactivation.

docs/decisions/0013-token-and-account-lifecycle.md. An admin manages accounts but never
reads cases, so an account an admin creates with a role that reads case data cannot sign
in until a supervisor of that account's organization approves it. The operator's
``flask users create`` on the server stays the bootstrap path (active at once).
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from caseapp.accounts import passwords, rules, services, tokens
from caseapp.accounts.models import User
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.db import utcnow
from caseapp.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from caseapp.core.security import Permission, has_permission
from caseapp.extensions import db

MAX_REASON = 500


def get_user(user_uuid: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.uuid == user_uuid))
    if user is None:
        raise NotFound("No such user")
    return user


def get_user_by_email(email: str) -> User:
    user = services.get_user_by_email(email)
    if user is None:
        raise NotFound(f"no user {email}")
    return user


def one_time_password() -> str:
    """An initial password to hand over in person (about 80 bits; changed at first use)."""
    return "-".join(secrets.token_hex(5) for _ in range(2))


def create_user_by_admin(actor: Actor, *, role: str, password: str = "", **fields: Any) -> User:
    """``services.create_user`` for the admin pages (four eyes, docs/decisions/0013).

    Every account an admin creates must replace its initial password at the first sign-in.
    A case-reading account also waits for a supervisor of its organization, and the
    admin never knows its password: it gets a random one nobody sees, and the approving
    supervisor receives the initial password to hand to the person (:func:`approve`)."""
    pending = rules.needs_approval(role)
    if pending:
        password = one_time_password()  # discarded: approval sets the one handed over
    user = services.create_user(actor, role=role, password=password, **fields)
    user.must_change_password = True
    if pending:
        user.is_pending_approval = True
        audit.record(
            actor,
            "user.pending_approval",
            object_type="user",
            object_id=user.uuid,
            details={"role": user.role, "org_id": user.organization_id},
        )
    return user


def pending_accounts(actor: Actor) -> list[User]:
    """Accounts of the actor's organization that wait for approval."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.organization_id == actor.organization_id,
                User.is_pending_approval.is_(True),
                User.is_active.is_(True),
            )
            .order_by(User.created_at, User.id)
        )
    )


def approve(actor: Actor, user_uuid: str) -> tuple[User, str]:
    """A supervisor of the account's own organization lets it sign in.

    Returns the account and its initial password, shown once to the supervisor, who hands
    it to the person; it must be replaced at the first sign-in. Another organization's
    account, or one that is not pending, is 404 like any object outside the actor's
    organization."""
    if not has_permission(getattr(actor, "role", None), Permission.ACCOUNTS_APPROVE):
        raise Forbidden()
    user = db.session.scalar(
        sa.select(User).where(
            User.uuid == user_uuid,
            User.organization_id == actor.organization_id,
            User.is_pending_approval.is_(True),
            User.is_active.is_(True),
        )
    )
    if user is None or user.id == actor.id:
        raise NotFound("No such account awaits approval")
    initial = one_time_password()
    user.password_hash = passwords.hash_password(initial)
    user.password_changed_at = utcnow()
    user.must_change_password = True
    user.is_pending_approval = False
    user.approved_at = utcnow()
    services.end_all_sessions(user)
    audit.record(
        actor,
        "user.approve",
        object_type="user",
        object_id=user.uuid,
        details={"email": user.email, "role": user.role},
    )
    return user, initial


def deactivate(actor: Actor, user: User, *, reason: str = "") -> int:
    """End an account: sign-in refused, every session and token dead at once.

    Tokens are revoked (not merely refused while inactive), so a later reactivation does
    not bring them back. Returns the number of tokens revoked."""
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed({"reason": [f"at most {MAX_REASON} characters"]})
    if actor.id is not None and actor.id == user.id:
        raise Conflict("You cannot deactivate your own account", code="own_account")
    if not user.is_active:
        raise Conflict(f"{user.email} is already deactivated", code="already_deactivated")
    user.is_active = False
    user.deactivated_at = utcnow()
    services.end_all_sessions(user)
    revoked = tokens.revoke_all(actor, user, why="user deactivated")
    audit.record(
        actor,
        "user.deactivate",
        object_type="user",
        object_id=user.uuid,
        details={"email": user.email, "reason": reason, "tokens_revoked": revoked},
        flagged=True,
    )
    return revoked


def reactivate(actor: Actor, user: User) -> None:
    """Restore an account. Its old tokens stay revoked; a pending approval stays pending."""
    if user.is_active:
        raise Conflict(f"{user.email} is active", code="already_active")
    user.is_active = True
    user.deactivated_at = None
    audit.record(
        actor,
        "user.reactivate",
        object_type="user",
        object_id=user.uuid,
        details={"email": user.email},
        flagged=True,
    )
