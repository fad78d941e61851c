"""The mapping profiles shipped in ``config/import/`` (or ``IMPORT_PROFILES_DIR``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from flask import current_app, has_app_context

from caseapp.core.config import PROJECT_ROOT
from caseapp.imports.rules import Profile, ProfileError, load_profile

DEFAULT_DIR = PROJECT_ROOT / "config" / "import"


class UnknownProfile(LookupError):
    pass


def directory() -> Path:
    configured = current_app.config.get("IMPORT_PROFILES_DIR") if has_app_context() else None
    return Path(configured) if configured else DEFAULT_DIR


def names() -> list[str]:
    return sorted(p.stem for p in directory().glob("*.toml"))


def load(name: str) -> Profile:
    """One profile by name (the file's stem); a bad profile raises ProfileError."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise UnknownProfile(name)
    path = directory() / f"{name}.toml"
    if not path.is_file():
        raise UnknownProfile(name)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(name, [f"not valid TOML: {exc}"]) from None
    return load_profile(name, doc)


def all_profiles() -> list[Profile]:
    return [load(name) for name in names()]
