"""Two-factor sign-in with TOTP (RFC 6238, pyotp) and one-time recovery codes.

Required for supervisors, admins and statisticians (they can override decisions, manage
accounts or see all organizations' figures); available to everyone. A code is accepted
once (the last used time step is stored), recovery codes are stored hashed and burn on
use, and failures are throttled like passwords.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from caseapp.accounts import throttle
from caseapp.accounts.models import LoginThrottle, RecoveryCode, User
from caseapp.accounts.rules import TWO_FACTOR_ROLES
from caseapp.audit import notes
from caseapp.audit import services as audit
from caseapp.audit.services import Actor
from caseapp.core.db import keyring, utcnow
from caseapp.core.errors import Conflict, ValidationFailed
from caseapp.extensions import db

REQUIRED_ROLES = TWO_FACTOR_ROLES  # one list, shared with the token rules
ISSUER = "Ruta"
RECOVERY_CODES = 10
VALID_WINDOW = 1  # accept the previous and next 30-second step (clock drift)


def required_for(user: User) -> bool:
    return user.role in REQUIRED_ROLES


def is_enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def start_enrolment(user: User) -> str:
    """A new secret, pending until confirmed with a valid code (stored encrypted)."""
    if is_enabled(user):
        raise Conflict("Two-factor sign-in is already active", code="already_enabled")
    user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_data_uri(user: User) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src data:)."""
    buffer = io.BytesIO()
    segno.make(provisioning_uri(user), error="m").save(
        buffer, kind="svg", scale=5, border=2, xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _hash_code(code: str) -> str:
    normalized = code.replace("-", "").replace(" ", "").lower()
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)  # 40 bits each, single use, throttled
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_code(raw)))
    return codes


def _matching_step(secret: str, code: str) -> int | None:
    """The time step a 6-digit code belongs to (within the drift window), or None."""
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(utcnow().timestamp()) // totp.interval
    for step in range(now_step - VALID_WINDOW, now_step + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Activate 2FA after the first valid code; return the recovery codes (shown once)."""
    if user.totp_secret is None or is_enabled(user):
        raise Conflict("Start the enrolment first", code="not_enrolling")
    step = _matching_step(user.totp_secret, code.strip())
    if step is None:
        raise ValidationFailed({"code": ["the code is not valid; check the phone's clock"]})
    user.totp_last_step = step
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    audit.record(user, "auth.2fa_enabled", object_type="user", object_id=user.uuid)
    return codes


def _throttle(user: User) -> LoginThrottle:
    return throttle.locked_row(keyring().blind_index(f"totp:{user.uuid}", purpose="login"))


def locked(user: User) -> bool:
    row = _throttle(user)
    return row.locked_until is not None and row.locked_until > utcnow()


def verify(user: User, code: str) -> bool:
    """Check a TOTP code (each time step once) or an unused recovery code.

    The caller commits whatever the outcome, so failures count towards the lock."""
    row = _throttle(user)
    now = utcnow()
    if row.locked_until is not None and row.locked_until > now:
        return False
    code = code.strip()
    ok = False
    if user.totp_secret and is_enabled(user):
        step = _matching_step(user.totp_secret, code)
        if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
            user.totp_last_step = step
            ok = True
        elif step is None and len(code.replace("-", "").replace(" ", "")) == 10:
            recovery = db.session.scalar(
                sa.select(RecoveryCode).where(
                    RecoveryCode.user_id == user.id,
                    RecoveryCode.used_at.is_(None),
                    RecoveryCode.code_hash == _hash_code(code),
                )
            )
            if recovery is not None:
                recovery.used_at = now
                ok = True
                audit.record(
                    user,
                    "auth.recovery_code_used",
                    object_type="user",
                    object_id=user.uuid,
                    flagged=True,
                )
    if ok:
        row.failures = 0
        row.locked_until = None
        return True
    row.failures = (row.failures or 0) + 1
    row.last_failure_at = now
    if row.failures >= int(current_app.config["LOGIN_MAX_FAILURES"]):
        row.locked_until = now + timedelta(minutes=int(current_app.config["LOGIN_LOCK_MINUTES"]))
        row.failures = 0
        audit.record(user, "auth.2fa_locked", object_type="user", object_id=user.uuid)
    return False


def remaining_recovery_codes(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def disable(user: User, actor: Actor | None = None, *, reason: str = "") -> None:
    """Remove 2FA (own choice, when not required; or an admin reset for a lost phone)."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.session_version = (user.session_version or 0) + 1  # sign out everywhere
    audit.record(
        actor or user,
        "auth.2fa_disabled",
        object_type="user",
        object_id=user.uuid,
        # a reset's reason is free text: kept encrypted, the event holds only its id
        details={"note": notes.keep("2fa_reset_reason", "user", user.uuid, reason)}
        if reason.strip()
        else {},
        flagged=actor is not None and actor is not user,
    )
