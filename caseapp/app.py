"""The application: factory, configuration, blueprints, sessions, login, the deny-by-default
guard, security headers and error pages. The only module that knows every feature."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    Request,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from caseapp.core.api import error_response
from caseapp.core.config import PROJECT_ROOT, load_config
from caseapp.core.crypto import Keyring
from caseapp.core.errors import Conflict, DomainError
from caseapp.core.security import access_of, has_permission
from caseapp.extensions import db, login_manager
from caseapp.web import json_safety, outage
from caseapp.web.safety import refuse_nul_characters


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Application factory (config → extensions → blueprints → guards)."""
    overrides = dict(overrides or {})
    instance_path = Path(
        overrides.pop("INSTANCE_PATH", None)
        or os.environ.get("CASEAPP_INSTANCE_PATH")
        or PROJECT_ROOT / "instance"
    )
    cfg = load_config(overrides, instance_path=instance_path)

    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder="web/templates",
        static_folder="web/static",
    )
    _apply_config(app, cfg)
    app.extensions["caseapp_keyring"] = Keyring(
        data_keys=cfg["DATA_KEYS"],
        current_key_id=str(cfg.get("DATA_KEY_ID") or "k1"),
        index_key=cfg["INDEX_KEY_BYTES"],
    )

    from caseapp import extensions as ext
    from caseapp.core import sqlite

    sqlite.install_pragmas()
    ext.db.init_app(app)
    ext.migrate.init_app(app, ext.db, directory=str(PROJECT_ROOT / "migrations"))
    ext.csrf.init_app(app)

    from caseapp.web import i18n

    ext.babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )

    from caseapp import models  # noqa: F401  (register every table with the metadata)

    init_app(app)

    from caseapp.cli import commands

    commands.init_app(app)
    return app


def _apply_config(app: Flask, cfg: Mapping[str, Any]) -> None:
    env = cfg["ENV"]
    app.config.update(cfg)
    app.config.update(
        SECRET_KEY=cfg["SECRET_KEY"],
        SQLALCHEMY_DATABASE_URI=cfg["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        TESTING=env == "testing" or bool(cfg.get("TESTING")),
        MAX_CONTENT_LENGTH=int(cfg["MAX_CONTENT_LENGTH"]),
        SESSION_COOKIE_SECURE=bool(cfg["SESSION_COOKIE_SECURE"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="ruta_session",
        REMEMBER_COOKIE_SECURE=bool(cfg["SESSION_COOKIE_SECURE"]),
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=int(cfg["SESSION_LIFETIME_HOURS"]) * 3600,
        SESSION_PROTECTION="basic",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        WTF_CSRF_SSL_STRICT=bool(cfg["SESSION_COOKIE_SECURE"]),
        BABEL_DEFAULT_LOCALE=str(cfg["DEFAULT_LOCALE"]),
        BABEL_DEFAULT_TIMEZONE=str(cfg["TIMEZONE"]),
        JSON_SORT_KEYS=False,
    )


def is_api(req: Request | None = None) -> bool:
    return (req or request).path.startswith("/api/")


class AppSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions for pages; none at all for the token-authenticated API."""

    def open_session(self, app: Flask, request: Request) -> Any:
        if is_api(request):
            return self.null_session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if is_api():
            return None
        return super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = AppSessionInterface()
    _init_login(app)
    app.before_request(_enforce_idle_timeout)
    app.before_request(_guard)
    app.before_request(refuse_nul_characters)  # after the guard: see web/safety.py
    json_safety.init_app(app)  # hostile JSON bodies (depth, surrogates), after the guard
    app.after_request(_security_headers)
    # A session never outlives its request: a view that forgot to commit loses its
    # changes instead of leaking them into whatever runs next in the same context.
    app.teardown_request(lambda _exc: db.session.remove())
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(StaleDataError, _stale_data)
    app.register_error_handler(Exception, _unexpected_error)
    from caseapp.web.nav import code_label, code_label_es, template_globals

    app.context_processor(template_globals)
    app.add_template_filter(
        lambda code, list_name: code_label(list_name, code), "code_label_filter"
    )
    app.add_template_filter(
        lambda code, list_name: code_label_es(list_name, code), "code_label_es_filter"
    )
    _register_blueprints(app)
    _wire_features()
    from caseapp.core import transaction

    transaction.install(app)  # the one commit point of every request


def _wire_features() -> None:
    """Hooks by which a lower feature reads a higher one without importing it."""
    from caseapp.directory import services as directory_services
    from caseapp.shelters.models import occupancy_by_service

    directory_services.occupancy_source = occupancy_by_service
    from caseapp.referrals import views as referral_views
    from caseapp.shelters.services import admission_for_referral

    referral_views.admission_of = admission_for_referral


def _register_blueprints(app: Flask) -> None:
    from caseapp.accounts.views import bp as accounts_bp
    from caseapp.audit.views import bp as audit_bp
    from caseapp.core.api import api

    # Feature API modules add their routes to the shared /api/v1 blueprint on import.
    from caseapp.directory import api as _directory_api  # noqa: F401
    from caseapp.directory.views import bp as directory_bp
    from caseapp.exchange import api as _exchange_api  # noqa: F401
    from caseapp.exchange.views import bp as exchange_bp
    from caseapp.extensions import csrf
    from caseapp.imports.views import bp as imports_bp
    from caseapp.intake import api as _intake_api  # noqa: F401
    from caseapp.intake.views import bp as screening_bp
    from caseapp.maintenance import api as _maintenance_api  # noqa: F401
    from caseapp.referrals import api as _referrals_api  # noqa: F401
    from caseapp.referrals.views import bp as referrals_bp
    from caseapp.reports import api as _reports_api  # noqa: F401
    from caseapp.reports.views import bp as reports_bp
    from caseapp.shelters import api as _shelters_api  # noqa: F401
    from caseapp.shelters.views import admissions_bp
    from caseapp.shelters.views import bp as shelters_bp
    from caseapp.web import api as _web_api  # noqa: F401
    from caseapp.web.views import bp as web_bp

    csrf.exempt(api)  # bearer tokens only, no cookies: nothing for CSRF to ride on
    blueprints = (
        web_bp,
        accounts_bp,
        directory_bp,
        audit_bp,
        screening_bp,
        referrals_bp,
        shelters_bp,
        admissions_bp,
        reports_bp,
        exchange_bp,
        imports_bp,
        api,
    )
    for bp in blueprints:
        app.register_blueprint(bp)
    from caseapp.web.guide import bp as guide_bp

    app.register_blueprint(guide_bp)  # /ayuda/: the user guide (ADR 0024)


# -- authentication ---------------------------------------------------------------
def _init_login(app: Flask) -> None:
    from caseapp.accounts import services as accounts

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> Any:
        return accounts.load_session_user(session_id)

    @login_manager.request_loader
    def load_token_user(req: Request) -> Any:
        if not is_api(req):
            return None
        header = req.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        from caseapp.accounts import tokens

        user, g.token_refusal = tokens.check(token.strip())  # the 401 says why (ADR 0013)
        return user


def _enforce_idle_timeout() -> Any:
    """Sign out a browser session that has been idle longer than IDLE_TIMEOUT_MINUTES."""
    if is_api() or request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    last = session.get("_seen")
    idle = int(current_app.config["IDLE_TIMEOUT_MINUTES"]) * 60
    if isinstance(last, int) and now - last > idle:
        logout_user()
        session.clear()
        session["_flash_idle"] = True
        return redirect(url_for("accounts.login", next=request.full_path))
    session["_seen"] = now
    return None


def _guard() -> Any:
    """Deny by default: an endpoint without a declared access is refused."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        abort(413)
    if request.endpoint is None:
        return None  # routing failed: the 404/405 handler answers
    if request.endpoint == "static":
        return None
    access = access_of(current_app.view_functions.get(request.endpoint))
    if access is None:
        abort(403)
    kind, permission = access
    if kind == "public":
        return None
    if not current_user.is_authenticated:
        if is_api():
            abort(401)
        return redirect(url_for("accounts.login", next=request.full_path))
    if not is_api() and current_user.must_change_password:  # admin-made account (ADR 0013)
        if request.endpoint not in FIRST_PASSWORD_ENDPOINTS:
            return redirect(url_for("accounts.change_password"))
    elif not is_api() and _needs_two_factor_enrolment():
        return redirect(url_for("accounts.two_factor_setup"))
    if kind == "permission" and not has_permission(current_user.role, permission):
        abort(403)
    g.private_page = True
    return None


FIRST_PASSWORD_ENDPOINTS = frozenset(
    {"accounts.change_password", "accounts.logout", "web.set_language", "web.healthz"}
)
ENROLMENT_ENDPOINTS = frozenset(
    {"accounts.two_factor_setup", "accounts.logout", "web.set_language", "web.healthz"}
)


def _needs_two_factor_enrolment() -> bool:
    """Supervisors, admins and statisticians use no page until they enrol 2FA."""
    from caseapp.accounts import two_factor

    user = current_user._get_current_object()
    return (
        request.endpoint not in ENROLMENT_ENDPOINTS
        and two_factor.required_for(user)
        and not two_factor.is_enabled(user)
    )


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


def _security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if g.get("private_page") or is_api():
        # Case data must never sit in a shared computer's or proxy's cache.
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    if current_app.config.get("HSTS"):
        h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response


# -- errors -----------------------------------------------------------------------
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if is_api():
        code = _HTTP_CODES.get(status, "error")
        message = {
            401: "Authentication required: send Authorization: Bearer <token>",
            413: "Request body is larger than 5 MB",
        }.get(status, exc.description or exc.name)
        refusal = g.get("token_refusal") if status == 401 else None
        if refusal is not None:
            from caseapp.accounts.rules import MESSAGES

            message = MESSAGES[refusal]
        response, status = error_response(
            status, code, message, **({"reason": refusal.value} if refusal else {})
        )
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="ruta"'
        return response, status
    if status == 400 and "CSRF" in (exc.description or ""):
        return render_template(
            "errors/error.html",
            status=400,
            title=_("La sesión del formulario expiró"),
            message=_("Vuelva a cargar la página e inténtelo de nuevo."),
        ), 400
    return render_template("errors/error.html", status=status, title=None, message=None), status


def _domain_error(exc: DomainError) -> Any:
    db.session.rollback()
    if is_api():
        return exc.as_json(), exc.status
    # Service messages are English (they are the API's); pages explain in the UI language.
    return render_template("errors/error.html", status=exc.status, title=None, message=None), (
        exc.status
    )


def _stale_data(_exc: StaleDataError) -> Any:
    """Two people changed the same record at once: the second is told, nothing is saved."""
    return _domain_error(
        Conflict(
            "Someone else changed this record at the same time; reload and try again",
            code="version_conflict",
        )
    )


def _unexpected_error(exc: Exception) -> Any:
    if outage.database_unreachable(exc):
        return outage.unavailable(exc)  # 503 + Retry-After, not a 500 (web/outage.py)
    db.session.rollback()
    if current_app.testing:
        raise exc  # let the test runner show the traceback
    current_app.logger.exception("unhandled error")
    if is_api():
        return error_response(500, "internal_error", "Unexpected error; nothing was saved.")
    return render_template("errors/error.html", status=500, title=None, message=None), 500
