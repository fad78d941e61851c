"""When a bearer token is accepted, and which accounts need a second person (pure).

docs/decisions/0013-token-and-account-lifecycle.md. No Flask, no database: the service
layer copies the facts into :class:`TokenFacts` and acts on the answer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from caseapp.core.security import Permission, has_permission

#: roles whose accounts use no page and no token without two-factor sign-in
TWO_FACTOR_ROLES = frozenset({"supervisor", "admin", "statistician"})


class TokenRefusal(enum.StrEnum):
    """Why a known token is not accepted; the message goes back to its holder only."""

    REVOKED = "token_revoked"
    EXPIRED = "token_expired"
    USER_INACTIVE = "user_inactive"
    USER_PENDING = "user_pending_approval"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (a reason code, not a password)
    TWO_FACTOR_REQUIRED = "two_factor_required"


MESSAGES = {
    TokenRefusal.REVOKED: "This token was revoked",
    TokenRefusal.EXPIRED: "This token has expired; ask for a new one",
    TokenRefusal.USER_INACTIVE: "The token's account is deactivated",
    TokenRefusal.USER_PENDING: "The token's account awaits a supervisor's approval",
    TokenRefusal.PASSWORD_CHANGED: (
        "The account's password changed after this token was created; ask for a new one"
    ),
    TokenRefusal.TWO_FACTOR_REQUIRED: (
        "This role needs two-factor sign-in: the account must be enrolled, and the token "
        "created after the enrolment"
    ),
}


@dataclass(frozen=True)
class TokenFacts:
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    user_role: str
    user_is_active: bool
    user_is_pending_approval: bool
    password_changed_at: datetime | None
    totp_enabled_at: datetime | None


def token_refusal(facts: TokenFacts, now: datetime) -> TokenRefusal | None:
    """None when the token may be used now, else the first reason it may not.

    A token is worth a sign-in, so it dies with whatever ends a sign-in: revocation,
    expiry, deactivation, a password change after it was made, and, for roles that need
    two-factor sign-in, the lack of an enrolment older than the token (a reset of the
    second factor, e.g. for a lost phone, ends the tokens made before it).
    """
    if facts.revoked_at is not None:
        return TokenRefusal.REVOKED
    if facts.expires_at <= now:
        return TokenRefusal.EXPIRED
    if not facts.user_is_active:
        return TokenRefusal.USER_INACTIVE
    if facts.user_is_pending_approval:
        return TokenRefusal.USER_PENDING
    if facts.password_changed_at is not None and facts.created_at < facts.password_changed_at:
        return TokenRefusal.PASSWORD_CHANGED
    if facts.user_role in TWO_FACTOR_ROLES and (
        facts.totp_enabled_at is None or facts.created_at < facts.totp_enabled_at
    ):
        return TokenRefusal.TWO_FACTOR_REQUIRED
    return None


def needs_approval(role: str) -> bool:
    """An account that reads case data waits for a supervisor when an admin creates it."""
    return has_permission(role, Permission.CASE_READ)
