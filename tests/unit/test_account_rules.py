"""caseapp.accounts.rules: when a token is accepted, and who needs a second person."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from caseapp.accounts.rules import TokenFacts, TokenRefusal, needs_approval, token_refusal
from caseapp.core.security import ROLES

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
MADE = NOW - timedelta(days=10)

GOOD = TokenFacts(
    created_at=MADE,
    expires_at=MADE + timedelta(days=90),
    revoked_at=None,
    user_role="screener",
    user_is_active=True,
    user_is_pending_approval=False,
    password_changed_at=MADE - timedelta(days=1),
    totp_enabled_at=None,
)
ENROLLED_BOSS = replace(GOOD, user_role="supervisor", totp_enabled_at=MADE - timedelta(hours=1))

CASES = [
    ("screener token in its lifetime", GOOD, None),
    ("enrolled supervisor", ENROLLED_BOSS, None),
    ("revoked", replace(GOOD, revoked_at=NOW - timedelta(minutes=1)), TokenRefusal.REVOKED),
    (
        "expired a second ago",
        replace(GOOD, expires_at=NOW - timedelta(seconds=1)),
        TokenRefusal.EXPIRED,
    ),
    ("expires exactly now", replace(GOOD, expires_at=NOW), TokenRefusal.EXPIRED),
    ("user deactivated", replace(GOOD, user_is_active=False), TokenRefusal.USER_INACTIVE),
    (
        "user awaits approval",
        replace(GOOD, user_is_pending_approval=True),
        TokenRefusal.USER_PENDING,
    ),
    (
        "password changed after the token",
        replace(GOOD, password_changed_at=MADE + timedelta(1)),
        TokenRefusal.PASSWORD_CHANGED,
    ),
    ("password never recorded", replace(GOOD, password_changed_at=None), None),
    (
        "supervisor never enrolled",
        replace(ENROLLED_BOSS, totp_enabled_at=None),
        TokenRefusal.TWO_FACTOR_REQUIRED,
    ),
    (
        "statistician never enrolled",
        replace(GOOD, user_role="statistician"),
        TokenRefusal.TWO_FACTOR_REQUIRED,
    ),
    ("admin never enrolled", replace(GOOD, user_role="admin"), TokenRefusal.TWO_FACTOR_REQUIRED),
    (
        "supervisor re-enrolled after the token (2FA reset)",
        replace(ENROLLED_BOSS, totp_enabled_at=MADE + timedelta(hours=1)),
        TokenRefusal.TWO_FACTOR_REQUIRED,
    ),
    (
        "revoked wins over expired",
        replace(GOOD, revoked_at=NOW, expires_at=NOW - timedelta(days=1)),
        TokenRefusal.REVOKED,
    ),
]


@pytest.mark.parametrize(("facts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_token_refusal(facts, expected):
    assert token_refusal(facts, NOW) == expected


@pytest.mark.parametrize("role", ROLES)
def test_roles_that_read_cases_need_approval(role):
    assert needs_approval(role) == (role in {"screener", "caseworker", "supervisor"})
