"""Account operations: users, sign-in with throttling, sessions, API tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from caseapp.accounts import passwords, throttle
from caseapp.accounts.models import Organization, User
from caseapp.accounts.tokens import TOKEN_PREFIX as TOKEN_PREFIX  # tokens live in tokens.py
from caseapp.accounts.tokens import create_token as create_token
from caseapp.accounts.tokens import user_for_token as user_for_token
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.db import utcnow
from caseapp.core.errors import ValidationFailed
from caseapp.core.security import ROLES
from caseapp.extensions import db


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


def create_user(
    actor: Actor | None,
    *,
    email: str,
    role: str,
    org_code: str,
    password: str,
    full_name: str = "",
) -> User:
    email = normalize_email(email)
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = ["not a valid e-mail address"]
    elif get_user_by_email(email) is not None:
        errors["email"] = ["a user with this e-mail already exists"]
    if role not in ROLES:
        errors["role"] = [f"must be one of {', '.join(ROLES)}"]
    org = db.session.scalar(sa.select(Organization).where(Organization.code == org_code))
    if org is None:
        errors["org"] = [f"unknown organization code {org_code!r}"]
    if problems := passwords.password_problems(password):
        errors["password"] = problems
    if errors:
        raise ValidationFailed(errors)
    assert org is not None
    user = User(
        email=email,
        role=role,
        organization_id=org.id,
        full_name=full_name,
        password_hash=passwords.hash_password(password),
        password_changed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor,
        "user.create",
        object_type="user",
        object_id=user.uuid,
        details={"email": email, "role": role, "org": org_code},
    )
    return user


class LoginStatus(enum.Enum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    PENDING = "pending_approval"  # right password, account not approved yet (ADR 0013)


@dataclass(frozen=True)
class LoginResult:
    status: LoginStatus
    user: User | None = None


def authenticate(email: str, password: str, client: str = "") -> LoginResult:
    """Check a password with throttling per account and client address (accounts/throttle.py).

    Known and unknown accounts take the same path (a real argon2 verification either
    way) and lock the same way, so neither the answer nor its timing tells whether an
    account exists. Both throttle rows stay locked until the caller commits, so parallel
    attempts are counted one after another, and failures count even though sign-in fails.
    """
    now = utcnow()
    cfg = current_app.config
    email = normalize_email(email)
    # always in this order (account, then account + address): no deadlock between attempts
    rows = (
        (throttle.locked_row(throttle.account_key(email)), int(cfg["LOGIN_MAX_FAILURES_ACCOUNT"])),
        (throttle.locked_row(throttle.client_key(email, client)), int(cfg["LOGIN_MAX_FAILURES"])),
    )
    if any(row.locked_until is not None and row.locked_until > now for row, _ in rows):
        passwords.burn_verify(password)
        return LoginResult(LoginStatus.LOCKED)

    user = get_user_by_email(email)
    if user is not None and user.is_active:
        ok = passwords.verify_password(user.password_hash, password)
    else:
        passwords.burn_verify(password)
        ok = False

    if ok and user is not None and user.is_pending_approval:
        return LoginResult(LoginStatus.PENDING, user)  # four eyes: no session before approval
    if ok and user is not None:
        for row, _ in rows:
            row.failures = 0
            row.locked_until = None
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        user.last_login_at = now
        audit.record(user, "auth.login", object_type="user", object_id=user.uuid)
        return LoginResult(LoginStatus.OK, user)

    status = LoginStatus.INVALID
    for row, limit in rows:
        row.failures = (row.failures or 0) + 1
        row.last_failure_at = now
        if row.failures >= limit:
            row.locked_until = now + timedelta(minutes=int(cfg["LOGIN_LOCK_MINUTES"]))
            row.failures = 0
            audit.record(None, "auth.locked", object_type="login", object_id=row.account_key[:16])
            status = LoginStatus.LOCKED
    return LoginResult(status)


def end_all_sessions(user: User) -> None:
    """Invalidate every browser session of the user (logout, password change)."""
    user.session_version = (user.session_version or 0) + 1


def logout(user: User) -> None:
    end_all_sessions(user)
    audit.record(user, "auth.logout", object_type="user", object_id=user.uuid)


def change_password(user: User, *, current: str, new: str) -> None:
    errors: dict[str, list[str]] = {}
    if not passwords.verify_password(user.password_hash, current):
        errors["current_password"] = ["incorrect"]
    if problems := passwords.password_problems(new):
        errors["new_password"] = problems
    elif user.must_change_password and new == current:
        errors["new_password"] = ["must differ from the initial password"]
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = passwords.hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False  # the initial password is gone (ADR 0013)
    end_all_sessions(user)
    audit.record(user, "auth.password_change", object_type="user", object_id=user.uuid)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login user loader: ``uuid:session_version`` must match the current row."""
    uuid, _, version = session_id.partition(":")
    if not uuid or not version.isdigit():
        return None
    user = db.session.scalar(
        # with the organization every scoped write reads: one query, not two
        sa.select(User).where(User.uuid == uuid).options(joinedload(User.organization))
    )
    if (
        user is None
        or not user.is_active
        or user.is_pending_approval
        or user.session_version != int(version)
    ):
        return None
    return user
