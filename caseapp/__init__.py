"""Ruta: screening, referral and harmonized statistics for victims of trafficking in Peru."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from caseapp.core.config import PROJECT_ROOT, load_config
from caseapp.core.crypto import Keyring

__all__ = ["create_app"]


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
    from caseapp.web import setup as web_setup

    web_setup.init_app(app)

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
