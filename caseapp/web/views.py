"""Home page, language switch and health check."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_login import current_user

from caseapp.core.security import authenticated, public, safe_next
from caseapp.extensions import db
from caseapp.web.outage import RETRY_AFTER_SECONDS

bp = Blueprint("web", __name__)


@bp.get("/")
@authenticated
def home() -> Any:
    return render_template("home.html", user=current_user)


@bp.post("/lang")
@public
def set_language() -> Any:
    lang = request.form.get("lang", "")
    if lang in current_app.config["LOCALES"]:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")))


@bp.get("/healthz")
@public
def healthz() -> Any:
    try:
        db.session.execute(sa.text("SELECT 1"))
        database = "ok"
    except sa.exc.SQLAlchemyError:
        database = "unavailable"
    status = 200 if database == "ok" else 503
    response = jsonify({"status": "ok" if status == 200 else "degraded", "database": database})
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status
