"""Sign-in throttle rows, created and locked atomically.

Two counters guard a password sign-in (``accounts.services.authenticate``):

* per account **and client address** (HMAC of both, purpose ``login_client``): locks
  after ``LOGIN_MAX_FAILURES`` (5) failures for ``LOGIN_LOCK_MINUTES``. A stranger
  guessing from one address locks only themselves out, not the user at the office.
* per account from any address (HMAC of the e-mail, purpose ``login``): a much higher
  ``LOGIN_MAX_FAILURES_ACCOUNT`` (50) that still stops distributed guessing.

Each row is created with an upsert (``INSERT … ON CONFLICT DO NOTHING``, PostgreSQL
and SQLite) and then read ``FOR UPDATE``, so parallel attempts on one account wait
for each other instead of all reading "0 failures" (or racing to insert the same
row, a unique violation). The lock is held until the request commits, so attempts on
one account and address are counted one after another. On SQLite the write lock of
the upsert serialises writers the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from caseapp.accounts.models import LoginThrottle
from caseapp.core.db import keyring
from caseapp.extensions import db


def account_key(email: str) -> str:
    return keyring().blind_index(email, purpose="login")


def client_key(email: str, client: str) -> str:
    return keyring().blind_index(f"{email}\n{client}", purpose="login_client")


def locked_row(key: str) -> LoginThrottle:
    """The throttle row for ``key``, created if missing, locked until the transaction ends."""
    table = LoginThrottle.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = pg_insert(table).values(account_key=key, failures=0)
        db.session.execute(stmt.on_conflict_do_nothing(index_elements=["account_key"]))
    elif dialect == "sqlite":
        lite = sqlite_insert(table).values(account_key=key, failures=0)
        db.session.execute(lite.on_conflict_do_nothing(index_elements=["account_key"]))
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {dialect}")
    row = db.session.scalar(
        sa.select(LoginThrottle)
        .where(LoginThrottle.account_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row
