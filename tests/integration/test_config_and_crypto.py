"""Configuration precedence, key handling, AES-GCM and blind indexes."""

from __future__ import annotations

import base64
import json
import os

import pytest

from caseapp.core.config import ConfigError, load_config
from caseapp.core.crypto import DecryptionError, Keyring


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_production_refuses_to_start_without_keys(tmp_path):
    with pytest.raises(ConfigError, match="CASEAPP_DATA_KEY"):
        load_config({"ENV": "production"}, environ={}, instance_path=tmp_path)


def test_production_rejects_a_short_key(tmp_path):
    env = {
        "CASEAPP_SECRET_KEY": key(),
        "CASEAPP_DATA_KEY": base64.b64encode(b"x" * 16).decode(),
        "CASEAPP_INDEX_KEY": key(),
        "CASEAPP_AUDIT_KEY": key(),
        "CASEAPP_AUDIT_SIGNING_KEY": key(),
    }
    with pytest.raises(ConfigError, match="32 bytes"):
        load_config({"ENV": "production"}, environ=env, instance_path=tmp_path)


def test_development_generates_keys_once(tmp_path):
    first = load_config({"ENV": "development"}, environ={}, instance_path=tmp_path)
    second = load_config({"ENV": "development"}, environ={}, instance_path=tmp_path)
    assert first["DATA_KEY"] == second["DATA_KEY"]
    stored = json.loads((tmp_path / "keys.json").read_text())
    assert set(stored) == {"SECRET_KEY", "DATA_KEY", "INDEX_KEY", "AUDIT_KEY", "AUDIT_SIGNING_KEY"}
    assert oct((tmp_path / "keys.json").stat().st_mode)[-3:] == "600"


def test_precedence_default_env_file_environment_overrides(tmp_path):
    cfg = load_config(
        {"ENV": "testing"},
        environ={"CASEAPP_SUPPRESSION_THRESHOLD": "5", "CASEAPP_IDLE_TIMEOUT_MINUTES": "7"},
        instance_path=tmp_path,
    )
    assert cfg["SUPPRESSION_THRESHOLD"] == 5  # env var, typed like the default
    assert cfg["SESSION_COOKIE_SECURE"] is False  # testing.toml over default.toml
    cfg = load_config(
        {"ENV": "testing", "SUPPRESSION_THRESHOLD": 3},
        environ={"CASEAPP_SUPPRESSION_THRESHOLD": "5"},
        instance_path=tmp_path,
    )
    assert cfg["SUPPRESSION_THRESHOLD"] == 3  # explicit overrides win


def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError):
        load_config({}, environ={"CASEAPP_ENV": "staging"}, instance_path=tmp_path)


@pytest.mark.parametrize("value", ["lots", "256", "0MB", "1TB", "256MB; DROP TABLE x"])
def test_a_malformed_report_memory_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="REPORTS_WORK_MEM"):
        load_config(
            {"ENV": "testing", "REPORTS_WORK_MEM": value}, environ={}, instance_path=tmp_path
        )


@pytest.mark.parametrize("value", ["", "64kB", "256MB", "2GB"])
def test_report_memory_sizes(tmp_path, value):
    cfg = load_config(
        {"ENV": "testing", "REPORTS_WORK_MEM": value}, environ={}, instance_path=tmp_path
    )
    assert cfg["REPORTS_WORK_MEM"] == value


def ring(**kw) -> Keyring:
    return Keyring(
        data_keys=kw.get("keys", {"k1": os.urandom(32)}),
        current_key_id=kw.get("current", "k1"),
        index_key=os.urandom(32),
    )


def test_aes_gcm_round_trip_and_key_id():
    r = ring()
    blob = r.encrypt("Rosa Quispe Mamani", context="persons.given_names")
    assert b"Rosa" not in blob
    assert Keyring.key_id_of(blob) == "k1"
    assert r.decrypt(blob, context="persons.given_names") == "Rosa Quispe Mamani"
    assert r.encrypt("x") != r.encrypt("x"), "fresh nonce every time"


def test_tampering_or_wrong_column_fails_authentication():
    r = ring()
    blob = bytearray(r.encrypt("71234567", context="persons.document_number"))
    with pytest.raises(DecryptionError):
        r.decrypt(bytes(blob), context="persons.address")
    blob[-1] ^= 1
    with pytest.raises(DecryptionError):
        r.decrypt(bytes(blob), context="persons.document_number")


def test_rotation_keeps_old_values_readable():
    old, new = os.urandom(32), os.urandom(32)
    before = Keyring(data_keys={"k1": old}, current_key_id="k1", index_key=os.urandom(32))
    blob = before.encrypt("dato")
    after = Keyring(
        data_keys={"k1": old, "k2": new}, current_key_id="k2", index_key=before.index_key
    )
    assert after.decrypt(blob) == "dato"
    assert Keyring.key_id_of(after.encrypt("dato")) == "k2"


def test_config_keyring_from_old_keys(tmp_path):
    old = key()
    cfg = load_config(
        {"ENV": "testing", "DATA_KEY": key(), "DATA_KEY_ID": "k2", "OLD_DATA_KEYS": f"k1:{old}"},
        environ={},
        instance_path=tmp_path,
    )
    assert set(cfg["DATA_KEYS"]) == {"k1", "k2"}


def test_blind_index_is_keyed_normalized_and_purpose_bound():
    r = ring()
    a = r.blind_index("José  Quispe", purpose="name")
    assert a == r.blind_index("JOSE QUISPE", purpose="name")
    assert a != r.blind_index("José Quispe", purpose="document")
    assert a != ring().blind_index("José Quispe", purpose="name"), "another key, another index"
    assert "QUISPE" not in a
