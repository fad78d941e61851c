"""The database cannot be reached: answer 503 with ``Retry-After``, never a 500.

A PostgreSQL restart under load answered 216 requests with a 500 and a stack trace (issue
13, finding 10): "connection refused" while it was down, "the database system is shutting
down" / "terminating connection due to administrator command" during the restart, and
connections that died in the middle of a request. Those are not bugs but an outage: the
API answers 503 with ``Retry-After`` and the api.md §3 error body (code
``service_unavailable``), pages a "Servicio no disponible" page, ``/healthz`` says the
database is unavailable. The request's transaction is rolled back (a transaction on a dead
connection never commits anyway). Recovery needs nothing: the pool's ``pre_ping`` tests
every connection before use and replaces dead ones, so the first request after the
database returns gets a fresh connection.

Only errors that mean "unreachable" are mapped; a deadlock, a timeout or a constraint
violation are not outages and keep their own handling.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, make_response, request
from flask_babel import get_locale

from caseapp.core.api import error_response
from caseapp.core.security import safe_next
from caseapp.extensions import db

RETRY_AFTER_SECONDS = 5
#: PostgreSQL SQLSTATEs of an unreachable server besides class 08 (connection exception):
#: admin_shutdown (fast shutdown/restart terminated the session), crash_shutdown,
#: cannot_connect_now (starting up or shutting down), too_many_connections
UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
#: SQLite: the file cannot be opened or read, or another process holds the lock too long
UNREACHABLE_SQLITE = ("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR")
API_MESSAGE = (
    "The database is unavailable; try again after Retry-After seconds (send the same "
    "Idempotency-Key, so a request that did get through is not created twice)."
)


def database_unreachable(exc: BaseException) -> bool:
    """True if ``exc`` (or an error it was raised from) says the database is unreachable."""
    current: BaseException | None = exc
    for _ in range(5):  # a few links of the cause chain (PendingRollbackError from …)
        if current is None:
            return False
        if _unreachable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DisconnectionError | sa.exc.TimeoutError):
        return True  # a pooled connection found dead; no connection free in time
    if isinstance(exc, sa.exc.DBAPIError):
        return bool(exc.connection_invalidated) or _driver_unreachable(exc.orig)
    return _driver_unreachable(exc)


def _driver_unreachable(error: BaseException | None) -> bool:
    if isinstance(error, sqlite3.OperationalError):
        return str(getattr(error, "sqlite_errorname", "") or "").startswith(UNREACHABLE_SQLITE)
    psycopg: Any = sys.modules.get("psycopg")  # only loaded when PostgreSQL is used
    if psycopg is None or not isinstance(error, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(error, "sqlstate", None)
    # no SQLSTATE: the failure is the connection itself (refused, closed, lost mid-query)
    return state is None or state.startswith("08") or state in UNREACHABLE_SQLSTATES


def _page() -> str:
    """The outage page, rendered without the context processors: Flask-Login's would load
    the signed-in user, i.e. query the database that is down."""
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    return template.render(
        lang=str(get_locale() or "es"),
        # the same address again, through the same-site filter of every redirect target
        retry_url=safe_next(request.full_path.rstrip("?") if request.method == "GET" else None),
    )


def unavailable(exc: BaseException) -> Response:
    """The 503 answer: JSON under /api/, a page elsewhere; nothing of the request kept."""
    with contextlib.suppress(Exception):  # rolling back on a dead connection may fail too
        db.session.rollback()
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    current_app.logger.warning("database unavailable: %s: %s", type(exc).__name__, first_line)
    if request.path.startswith("/api/"):
        response, _status = error_response(503, "service_unavailable", API_MESSAGE)
    else:
        response = make_response(_page())
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"  # an outage page must not be cached
    return response
