"""Roles, permissions and the deny-by-default route guard.

Every view declares its access with exactly one of :func:`public`, :func:`authenticated`
or :func:`requires`. The guard (installed in ``create_app``) refuses any endpoint that
declared nothing, so a forgotten decorator is a 403/401, never an open door; a test walks
the URL map and fails when a route has no declaration.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import url_for

F = TypeVar("F", bound=Callable[..., Any])

ROLES = ("screener", "caseworker", "supervisor", "statistician", "admin")


class Permission(enum.StrEnum):
    CASE_CREATE = "case.create"
    CASE_READ = "case.read"
    CASE_UPDATE = "case.update"
    CASE_CLOSE = "case.close"
    CONSENT_RECORD = "consent.record"
    CONSENT_OVERRIDE = "consent.override"
    DETERMINATION_OVERRIDE = "determination.override"
    REFERRAL_SEND = "referral.send"
    REFERRAL_RECEIVE = "referral.receive"
    ADMISSION_MANAGE = "admission.manage"
    ESCALATION_INBOX = "escalation.inbox"
    REPORTS_VIEW = "reports.view"
    REPORTS_ALL_ORGS = "reports.all_orgs"
    DIRECTORY_VIEW = "directory.view"
    DIRECTORY_EDIT = "directory.edit"
    USERS_MANAGE = "users.manage"
    ACCOUNTS_APPROVE = "accounts.approve"
    AUDIT_VIEW = "audit.view"
    HTCDS_EXPORT = "htcds.export"
    CASE_IMPORT = "case.import"


_SCREENER = {
    Permission.CASE_CREATE,
    Permission.CASE_READ,
    Permission.CASE_UPDATE,
    Permission.CONSENT_RECORD,
    Permission.REFERRAL_SEND,
    Permission.REPORTS_VIEW,
    Permission.DIRECTORY_VIEW,
}
_CASEWORKER = _SCREENER | {
    Permission.REFERRAL_RECEIVE,
    Permission.ADMISSION_MANAGE,
    Permission.CASE_CLOSE,
}
_SUPERVISOR = _CASEWORKER | {
    Permission.DETERMINATION_OVERRIDE,
    Permission.CONSENT_OVERRIDE,
    Permission.ESCALATION_INBOX,
    Permission.ACCOUNTS_APPROVE,  # four eyes on accounts an admin creates (ADR 0013)
    Permission.HTCDS_EXPORT,  # every case of the organization at once (ADR 0023)
    Permission.CASE_IMPORT,  # an organization's own register, in bulk (ADR 0022)
}

#: api.md §2, as data. Statisticians and admins never see case data.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "screener": frozenset(_SCREENER),
    "caseworker": frozenset(_CASEWORKER),
    "supervisor": frozenset(_SUPERVISOR),
    "statistician": frozenset(
        {Permission.REPORTS_VIEW, Permission.REPORTS_ALL_ORGS, Permission.DIRECTORY_VIEW}
    ),
    "admin": frozenset(
        {
            Permission.USERS_MANAGE,
            Permission.DIRECTORY_VIEW,
            Permission.DIRECTORY_EDIT,
            Permission.AUDIT_VIEW,
            Permission.REPORTS_VIEW,
        }
    ),
}

ACCESS_ATTR = "_caseapp_access"


def has_permission(role: str | None, permission: Permission | None) -> bool:
    if role is None or permission is None:
        return False
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def public(view: F) -> F:
    """Reachable without login (login page, health check, static files)."""
    setattr(view, ACCESS_ATTR, ("public", None))
    return view


def authenticated(view: F) -> F:
    """Any signed-in user, whatever the role (home page, logout, own account)."""
    setattr(view, ACCESS_ATTR, ("authenticated", None))
    return view


def requires(permission: Permission) -> Callable[[F], F]:
    """Signed-in user whose role grants ``permission``."""

    def decorate(view: F) -> F:
        setattr(view, ACCESS_ATTR, ("permission", permission))
        return view

    return decorate


def access_of(view: Callable[..., Any] | None) -> tuple[str, Permission | None] | None:
    if view is None:
        return None
    return getattr(view, ACCESS_ATTR, None)


#: C0 controls and DEL: a CR/LF in a redirect target was a header-injection attempt (and
#: a 500 from Werkzeug); no same-site path needs any of them
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target: str | None, default_endpoint: str = "web.home") -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
            and not _CONTROL.search(target)
        ):
            return target
    return url_for(default_endpoint)
