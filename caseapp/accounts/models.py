"""Organizations, users, API tokens and login throttles."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from caseapp.core.db import EncryptedText, UTCDateTime, new_uuid, utcnow
from caseapp.extensions import db

if TYPE_CHECKING:
    from caseapp.directory.models import Service


class Organization(db.Model):  # type: ignore[name-defined]
    """An institution that uses Ruta or receives referrals (directory.csv rows)."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    org_kind: Mapped[str] = mapped_column(sa.String(30))
    region_code: Mapped[str] = mapped_column(sa.String(8), index=True)
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(
        "Service", back_populates="organization", order_by="Service.id"
    )

    def __repr__(self) -> str:
        return f"<Organization {self.code}>"


class User(db.Model):  # type: ignore[name-defined]
    """A person who signs in. One organization, one role (api.md §2)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20))
    organization_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: bumped at logout and password change: every cookie carrying an older value is dead
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # two-factor sign-in (TOTP, RFC 6238)
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText("users.totp_secret"))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: last accepted 30-second time step: a code is never accepted twice (replay)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # four eyes (docs/decisions/0013): an account an admin creates with a role that reads
    # case data waits for a supervisor of its organization before it can sign in
    is_pending_approval: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: set on accounts an admin creates: the first sign-in must choose a new password
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "role IN ('screener','caseworker','supervisor','statistician','admin')",
            name="role_known",
        ),
    )

    # Flask-Login protocol -------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.uuid}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class RecoveryCode(db.Model):  # type: ignore[name-defined]
    """One-time codes for a lost authenticator; only their SHA-256 is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):  # type: ignore[name-defined]
    """Bearer token for /api/v1; only the SHA-256 of the 256-bit secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: every token expires (TOKEN_LIFETIME_DAYS); see docs/decisions/0013
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):  # type: ignore[name-defined]
    """Failed sign-ins per account name (HMAC of the e-mail), known or not.

    Keying by the submitted name rather than the user row means unknown accounts lock
    exactly like real ones, so the lock itself does not reveal who has an account.
    """

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
