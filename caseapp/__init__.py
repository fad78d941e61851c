"""Ruta: screening, referral and harmonized statistics for victims of trafficking in Peru."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Application factory; the wiring lives in :mod:`caseapp.app`."""
    from caseapp.app import create_app as factory

    return factory(overrides)
