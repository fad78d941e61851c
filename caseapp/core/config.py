"""Typed configuration: config/default.toml, config/<env>.toml, CASEAPP_* variables, overrides.

Keys (secret key, data key, index key, audit chain key, audit signing key) are never in
the TOML files. In production the
app refuses to start without them; in development they are generated once into the
git-ignored ``instance/`` folder so the demo keeps reading its own encrypted data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENVIRONMENTS = ("development", "testing", "production")
# AUDIT_KEY: HMAC key of the audit chain; AUDIT_SIGNING_KEY: Ed25519 private key (raw 32
# bytes) that signs audit checkpoints (docs/decisions/0012-tamper-evident-audit.md)
KEY_NAMES = ("SECRET_KEY", "DATA_KEY", "INDEX_KEY", "AUDIT_KEY", "AUDIT_SIGNING_KEY")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
TESTING_AUDIT_KEYS = {
    name: base64.b64encode(hashlib.sha256(f"ruta testing {name}".encode()).digest()).decode()
    for name in ("AUDIT_KEY", "AUDIT_SIGNING_KEY")
}


class ConfigError(RuntimeError):
    """Raised when the app cannot start safely with the given configuration."""


def _coerce(raw: str, current: Any) -> Any:
    """Parse an environment string into the type of the value it overrides."""
    if isinstance(current, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def decode_key(name: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"CASEAPP_{name} is not valid base64") from exc
    if len(key) != 32:
        raise ConfigError(f"CASEAPP_{name} must be base64 of 32 bytes, got {len(key)} bytes")
    return key


def _instance_keys(instance_path: Path) -> dict[str, str]:
    """Development only: load keys from instance/keys.json, generating missing ones once."""
    instance_path.mkdir(parents=True, exist_ok=True)
    path = instance_path / "keys.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for name in KEY_NAMES:
        if not stored.get(name):
            stored[name] = base64.b64encode(secrets.token_bytes(32)).decode()
            changed = True
    if changed:
        # created 0600 from the start: the keys are never readable by others, not even briefly
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    instance_path: Path | None = None,
    config_dir: Path | None = None,
) -> dict[str, Any]:
    """Build the flat configuration dict the app factory puts into ``app.config``."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    config_dir = config_dir or PROJECT_ROOT / "config"
    instance_path = instance_path or PROJECT_ROOT / "instance"

    env = overrides.get("ENV") or environ.get("CASEAPP_ENV") or "development"
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CASEAPP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")

    cfg: dict[str, Any] = {}
    cfg.update(_read_toml(config_dir / "default.toml"))
    cfg.update(_read_toml(config_dir / f"{env}.toml"))
    for name, raw in environ.items():
        if name.startswith("CASEAPP_") and name != "CASEAPP_ENV":
            key = name.removeprefix("CASEAPP_")
            cfg[key] = _coerce(raw, cfg.get(key))
    cfg.update(overrides)
    cfg["ENV"] = env

    missing = [k for k in KEY_NAMES if not cfg.get(k)]
    if missing:
        if env == "production":
            names = ", ".join(f"CASEAPP_{k}" for k in missing)
            raise ConfigError(f"refusing to start in production without {names}")
        if env == "development":
            stored = _instance_keys(instance_path)
        else:  # testing: throwaway keys, never written anywhere
            stored = {k: base64.b64encode(secrets.token_bytes(32)).decode() for k in KEY_NAMES}
            # ...except the audit keys: several test apps share one database (backups,
            # restores, crash checks) and must verify each other's chain
            stored.update(TESTING_AUDIT_KEYS)
        for k in missing:
            cfg[k] = stored[k]

    memory = str(cfg.get("REPORTS_WORK_MEM") or "")
    if memory and not re.fullmatch(r"[1-9][0-9]{0,6}(kB|MB|GB)", memory):
        raise ConfigError(
            f"REPORTS_WORK_MEM must be empty or a size like 256MB (kB, MB or GB), not {memory!r}"
        )
    noise = cfg.get("PERTURBATION_MAX_NOISE", 2)
    if isinstance(noise, bool) or not isinstance(noise, int) or not 0 <= noise <= 7:
        raise ConfigError(f"PERTURBATION_MAX_NOISE must be an integer from 0 to 7, not {noise!r}")
    cfg["DATA_KEYS"] = _data_keyring(cfg)
    cfg["INDEX_KEY_BYTES"] = decode_key("INDEX_KEY", str(cfg["INDEX_KEY"]))
    cfg["AUDIT_KEY_BYTES"] = decode_key("AUDIT_KEY", str(cfg["AUDIT_KEY"]))
    cfg["AUDIT_SIGNING_KEY_BYTES"] = decode_key("AUDIT_SIGNING_KEY", str(cfg["AUDIT_SIGNING_KEY"]))
    if cfg.get("AUDIT_VERIFY_KEY"):
        cfg["AUDIT_VERIFY_KEY_BYTES"] = decode_key("AUDIT_VERIFY_KEY", str(cfg["AUDIT_VERIFY_KEY"]))
    if not cfg.get("AUDIT_CHECKPOINT_DIR"):
        cfg["AUDIT_CHECKPOINT_DIR"] = str(instance_path / "audit-checkpoints")
    if not cfg.get("DATABASE_URL"):
        instance_path.mkdir(parents=True, exist_ok=True)
        cfg["DATABASE_URL"] = f"sqlite:///{instance_path / 'ruta.sqlite3'}"
    return cfg


def _data_keyring(cfg: Mapping[str, Any]) -> dict[str, bytes]:
    """Current data key under its key id, plus retired keys kept for decryption.

    ``DATA_KEY_ID`` names the current key (default ``k1``); ``OLD_DATA_KEYS`` is an
    optional ``id:base64,id:base64`` list so data written under a previous key stays
    readable until it is re-encrypted.
    """
    ring: dict[str, bytes] = {}
    old = cfg.get("OLD_DATA_KEYS") or ""
    entries = old if isinstance(old, list) else str(old).split(",")
    for entry in entries:
        if not str(entry).strip():
            continue
        kid, _, value = str(entry).partition(":")
        ring[kid.strip()] = decode_key("OLD_DATA_KEYS", value.strip())
    current_id = str(cfg.get("DATA_KEY_ID") or "k1")
    ring[current_id] = decode_key("DATA_KEY", str(cfg["DATA_KEY"]))
    return ring
