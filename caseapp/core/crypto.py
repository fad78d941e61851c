"""Personal-data protection: AES-GCM for encrypted columns, HMAC-SHA256 blind indexes.

Ciphertext layout: ``b"\\x01" | len(key_id) | key_id | nonce(12) | ciphertext+tag``.
The key id travels with each value, so a key rotation can re-encrypt data lazily or in
bulk while old values stay readable with the retired key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
NONCE_BYTES = 12


class DecryptionError(ValueError):
    """The ciphertext is corrupt, truncated, or was made with an unknown key."""


@dataclass(frozen=True)
class Keyring:
    data_keys: Mapping[str, bytes]
    current_key_id: str
    index_key: bytes

    def __post_init__(self) -> None:
        if self.current_key_id not in self.data_keys:
            raise ValueError(f"current data key {self.current_key_id!r} is not in the keyring")
        for kid, key in self.data_keys.items():
            if len(key) != 32:
                raise ValueError(f"data key {kid!r} must be 32 bytes")
            if not 0 < len(kid.encode()) < 256:
                raise ValueError("key ids must be 1..255 bytes")
        if len(self.index_key) != 32:
            raise ValueError("index key must be 32 bytes")

    # -- AES-GCM ----------------------------------------------------------------
    def encrypt(self, plaintext: str, *, context: str = "") -> bytes:
        """Encrypt text; ``context`` (e.g. ``persons.given_names``) is bound as AAD."""
        kid = self.current_key_id.encode()
        nonce = os.urandom(NONCE_BYTES)
        body = AESGCM(self.data_keys[self.current_key_id]).encrypt(
            nonce, plaintext.encode("utf-8"), context.encode()
        )
        return bytes([FORMAT_VERSION, len(kid)]) + kid + nonce + body

    def decrypt(self, blob: bytes, *, context: str = "") -> str:
        kid, nonce, body = self._split(blob)
        key = self.data_keys.get(kid)
        if key is None:
            raise DecryptionError(f"unknown data key id {kid!r}")
        try:
            return AESGCM(key).decrypt(nonce, body, context.encode()).decode("utf-8")
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    @staticmethod
    def key_id_of(blob: bytes) -> str:
        return Keyring._split(blob)[0]

    @staticmethod
    def _split(blob: bytes) -> tuple[str, bytes, bytes]:
        if len(blob) < 2 or blob[0] != FORMAT_VERSION:
            raise DecryptionError("unknown ciphertext format")
        n = blob[1]
        kid = blob[2 : 2 + n].decode()
        nonce = blob[2 + n : 2 + n + NONCE_BYTES]
        body = blob[2 + n + NONCE_BYTES :]
        if len(nonce) != NONCE_BYTES or len(body) < 16:
            raise DecryptionError("ciphertext is truncated")
        return kid, nonce, body

    # -- HMAC blind index --------------------------------------------------------
    def blind_index(self, value: str, *, purpose: str) -> str:
        """Keyed hash for exact search; ``purpose`` separates name from document indexes."""
        msg = purpose.encode() + b"\x00" + normalize_for_index(value).encode("utf-8")
        return hmac.new(self.index_key, msg, hashlib.sha256).hexdigest()


def normalize_for_index(value: str) -> str:
    """Case-, accent- and whitespace-insensitive form, so "José  QUISPE" finds "jose quispe"."""
    if not value.isascii():  # ASCII has nothing to decompose or strip
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(value.upper().split())
