"""Account lifecycle: four-eyes approval, deactivation and reactivation.

docs/decisions/0013-token-and-account-lifecycle.md. An admin manages accounts but never
reads cases, so an account an admin creates with a role that reads case data cannot sign
in until a supervisor of that account's organization approves it. The operator's
``flask users create`` on the server stays the bootstrap path (active at once).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from caseapp.accounts import rules, services, tokens
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


def create_user_by_admin(actor: Actor, **fields: Any) -> User:
    """``services.create_user`` for the admin pages: case-reading roles wait for approval."""
    user = services.create_user(actor, **fields)
    if rules.needs_approval(user.role):
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


def approve(actor: Actor, user_uuid: str) -> User:
    """A supervisor of the account's own organization lets it sign in.

    Another organization's account, or one that is not pending, is 404 like any object
    outside the actor's organization."""
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
    user.is_pending_approval = False
    user.approved_at = utcnow()
    audit.record(
        actor,
        "user.approve",
        object_type="user",
        object_id=user.uuid,
        details={"email": user.email, "role": user.role},
    )
    return user


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
