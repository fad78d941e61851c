"""Bench users and API tokens, through the same services as ``flask users create`` and
``flask tokens create``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

PASSWORD = "bench-" + secrets.token_urlsafe(12)


@dataclass(frozen=True)
class BenchUser:
    email: str
    role: str
    org_code: str
    token: str
    password: str = PASSWORD


def ensure_user(email: str, role: str, org_code: str) -> BenchUser:
    """Create the user (if new) and a fresh token; commits. Needs an app context."""
    from caseapp.accounts import services as accounts
    from caseapp.accounts.models import User
    from caseapp.audit.services import SystemActor
    from caseapp.extensions import db

    actor = SystemActor(email="system:bench")
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = accounts.create_user(
            actor, email=email, role=role, org_code=org_code, password=PASSWORD
        )
    else:  # a reused database (--reuse-data): this run's password
        from caseapp.accounts import passwords

        user.password_hash = passwords.hash_password(PASSWORD)
    from caseapp.accounts import two_factor

    if two_factor.required_for(user) and not two_factor.is_enabled(user):
        # no token of such a role without two-factor sign-in (docs/decisions/0013)
        import pyotp

        secret = two_factor.start_enrolment(user)
        two_factor.confirm_enrolment(user, pyotp.TOTP(secret).now())
    token = accounts.create_token(actor, user, name="bench")
    db.session.commit()
    return BenchUser(email, role, org_code, token)


def org_id(code: str) -> int:
    from caseapp.accounts.models import Organization
    from caseapp.extensions import db

    found = db.session.scalar(sa.select(Organization.id).where(Organization.code == code))
    if found is None:
        raise RuntimeError(f"organization {code} is not in the bench directory")
    return int(found)
