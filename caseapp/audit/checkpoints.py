"""Signed checkpoints of the audit chain, kept outside the database (docs/decisions/0012).

Like a Certificate Transparency signed tree head: a small JSON file saying "at time T the
chain had N events and ended at event S with hash H", signed with Ed25519 under
``AUDIT_SIGNING_KEY``. Whoever can rewrite the database cannot rewrite these files once
they are shipped to write-once storage, so a deleted tail or a recomputed chain no longer
matches them.

Files are never overwritten or deleted by Ruta: each has a new name
(``<signed_at>-<kind>-<seq>.json``, sorting by time), is written to a ``.partial`` file
created 0600 and linked into place (never half-written under its final name), in a
directory created 0700.

Two kinds:

* ``head``: ``{format, kind, head_seq, head_hash, count, signed_at, key_id, signature}``.
* ``restore``: ``{format, kind, rollback_to, signed_at, key_id, signature}``, written by
  ``flask backup restore``: the chain was deliberately set back to event ``rollback_to``,
  so head checkpoints signed before it beyond that event are superseded (reported, not
  checked); the restored prefix is still checked against them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app

FORMAT = 1
DOMAIN = b"ruta-audit-checkpoint-v1\n"  # signed prefix: the signature means nothing elsewhere
_HEX64 = frozenset("0123456789abcdef")


class InvalidCheckpoint(Exception):
    """A checkpoint file that is unreadable, malformed or not signed by our key."""

    def __init__(self, name: str, reason: str, seq: int | None = None) -> None:
        super().__init__(f"checkpoint {name} {reason}")
        self.name = name
        self.seq = seq


@dataclass(frozen=True)
class Checkpoint:
    name: str
    kind: str  # "head" or "restore"
    signed_at: datetime
    head_seq: int = 0
    head_hash: str = ""
    count: int = 0
    rollback_to: int = 0


@dataclass(frozen=True)
class Found:
    active: list[Checkpoint] = field(default_factory=list)  # head checkpoints to check
    superseded: int = 0  # head checkpoints signed before a restore went back past them
    restores: int = 0


# -- keys ---------------------------------------------------------------------------------
def _private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(current_app.config["AUDIT_SIGNING_KEY_BYTES"])


def public_key_bytes() -> bytes:
    """The key verifiers need: ``AUDIT_VERIFY_KEY`` if configured, else derived."""
    configured = current_app.config.get("AUDIT_VERIFY_KEY_BYTES")
    if configured:
        return bytes(configured)
    return _private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


# -- writing ------------------------------------------------------------------------------
def _signed_bytes(body: dict[str, Any]) -> bytes:
    return DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _write(directory: Path, body: dict[str, Any], seq: int) -> Path:
    private = _private_key()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {"format": FORMAT, **body, "key_id": key_id(public)}
    document = {**body, "signature": base64.b64encode(private.sign(_signed_bytes(body))).decode()}
    data = (json.dumps(document, sort_keys=True, indent=1) + "\n").encode()
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
        directory.chmod(0o700)  # whatever the umask
    stem = f"{body['signed_at'].replace(':', '')}-{body['kind']}-{seq:012d}"
    partial = directory / f".{stem}.{os.getpid()}.partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        for n in range(100):  # never overwrite: a name already taken gets a suffix
            target = directory / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
            try:
                os.link(partial, target)
                return target
            except FileExistsError:
                continue
        raise FileExistsError(f"no free checkpoint name for {stem} in {directory}")
    finally:
        partial.unlink(missing_ok=True)


def write_head(
    directory: Path, head_seq: int, head_hash: str, count: int, now: datetime | None = None
) -> Path:
    """Sign and store the chain's head (the caller has checked the chain, or wrote it)."""
    signed_at = _stamp(now or datetime.now(UTC))
    body = {
        "kind": "head",
        "head_seq": head_seq,
        "head_hash": head_hash,
        "count": count,
        "signed_at": signed_at,
    }
    return _write(directory, body, head_seq)


def write_restore(directory: Path, rollback_to: int, now: datetime | None = None) -> Path:
    """Record that the chain was deliberately set back to event ``rollback_to``."""
    signed_at = _stamp(now or datetime.now(UTC))
    body = {"kind": "restore", "rollback_to": rollback_to, "signed_at": signed_at}
    return _write(directory, body, rollback_to)


# -- reading ------------------------------------------------------------------------------
def _int(doc: dict[str, Any], name: str, cp: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidCheckpoint(cp, f"is malformed: {name} is not a count")
    return value


def _parse(path: Path, public: Ed25519PublicKey, our_id: str) -> Checkpoint:
    name = path.name
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise InvalidCheckpoint(name, f"is unreadable ({exc.__class__.__name__})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidCheckpoint(name, "is malformed: not a checkpoint of format 1")
    body = {k: v for k, v in doc.items() if k != "signature"}
    if doc.get("key_id") != our_id:
        raise InvalidCheckpoint(
            name, f"is signed by another key ({doc.get('key_id')!r}, ours is {our_id})"
        )
    try:
        signature = base64.b64decode(str(doc.get("signature", "")), validate=True)
        public.verify(signature, _signed_bytes(body))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        claimed = doc.get("head_seq") if isinstance(doc.get("head_seq"), int) else None
        raise InvalidCheckpoint(
            name, "has an invalid signature (forged or altered)", claimed
        ) from exc
    try:
        signed_at = datetime.fromisoformat(str(doc["signed_at"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise InvalidCheckpoint(name, "is malformed: bad signed_at") from exc
    if signed_at.tzinfo is None:
        raise InvalidCheckpoint(name, "is malformed: signed_at without a time zone")
    kind = doc.get("kind")
    if kind == "restore":
        return Checkpoint(name, "restore", signed_at, rollback_to=_int(doc, "rollback_to", name))
    if kind != "head":
        raise InvalidCheckpoint(name, f"is malformed: unknown kind {kind!r}")
    head_seq, count = _int(doc, "head_seq", name), _int(doc, "count", name)
    head_hash = doc.get("head_hash")
    if not isinstance(head_hash, str) or len(head_hash) != 64 or set(head_hash) - _HEX64:
        raise InvalidCheckpoint(name, "is malformed: head_hash is not a SHA-256 hex digest")
    if count != head_seq:  # seq numbers are consecutive from 1
        raise InvalidCheckpoint(name, "is malformed: count differs from head_seq")
    return Checkpoint(name, "head", signed_at, head_seq, head_hash, count)


def load(directory: Path) -> Found:
    """Every checkpoint in ``directory``, signatures verified; raises on the first bad one."""
    if not directory.is_dir():
        return Found()
    public_bytes = public_key_bytes()
    public = Ed25519PublicKey.from_public_bytes(public_bytes)
    our_id = key_id(public_bytes)
    parsed = [_parse(p, public, our_id) for p in sorted(directory.glob("*.json"))]
    restores = [cp for cp in parsed if cp.kind == "restore"]
    active: list[Checkpoint] = []
    superseded = 0
    for cp in parsed:
        if cp.kind != "head":
            continue
        if any(r.signed_at > cp.signed_at and cp.head_seq > r.rollback_to for r in restores):
            superseded += 1
        else:
            active.append(cp)
    return Found(active, superseded, len(restores))
