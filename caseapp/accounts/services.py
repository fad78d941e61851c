"""Account operations: users, sign-in with throttling, sessions, API tokens."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from caseapp.accounts import passwords
from caseapp.accounts.models import LoginThrottle, Organization, User
from caseapp.accounts.tokens import TOKEN_PREFIX as TOKEN_PREFIX  # tokens live in tokens.py
from caseapp.accounts.tokens import create_token as create_token
from caseapp.accounts.tokens import user_for_token as user_for_token
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.db import keyring, utcnow
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


def _throttle_for(email: str) -> LoginThrottle:
    key = keyring().blind_index(normalize_email(email), purpose="login")
    throttle = db.session.scalar(sa.select(LoginThrottle).where(LoginThrottle.account_key == key))
    if throttle is None:
        throttle = LoginThrottle(account_key=key, failures=0)
        db.session.add(throttle)
    return throttle


def authenticate(email: str, password: str) -> LoginResult:
    """Check a password with per-account throttling.

    Known and unknown accounts take the same path (a real argon2 verification either
    way) and lock the same way, so neither the answer nor its timing tells whether an
    account exists. The caller commits, so failures are counted even though sign-in fails.
    """
    now = utcnow()
    cfg = current_app.config
    throttle = _throttle_for(email)
    if throttle.locked_until is not None and throttle.locked_until > now:
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
        throttle.failures = 0
        throttle.locked_until = None
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        user.last_login_at = now
        audit.record(user, "auth.login", object_type="user", object_id=user.uuid)
        return LoginResult(LoginStatus.OK, user)

    throttle.failures = (throttle.failures or 0) + 1
    throttle.last_failure_at = now
    if throttle.failures >= int(cfg["LOGIN_MAX_FAILURES"]):
        throttle.locked_until = now + timedelta(minutes=int(cfg["LOGIN_LOCK_MINUTES"]))
        throttle.failures = 0
        audit.record(None, "auth.locked", object_type="login", object_id=throttle.account_key[:16])
        return LoginResult(LoginStatus.LOCKED)
    return LoginResult(LoginStatus.INVALID)


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
    user = db.session.scalar(sa.select(User).where(User.uuid == uuid))
    if (
        user is None
        or not user.is_active
        or user.is_pending_approval
        or user.session_version != int(version)
    ):
        return None
    return user
