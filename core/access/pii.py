"""Personal data encrypted at rest: AES-256-GCM per field, with a key id in every ciphertext.

``cipher = platform.service(PiiCipher)``:

* ``cipher.encrypt("4510 123456", context="users_users.passport_enc") -> bytes`` and
  ``cipher.decrypt(blob, context=...) -> str``. The context is authenticated data: a
  ciphertext copied into another column does not decrypt there.
* ``cipher.blind_index(normalized, context=...) -> bytes``: a keyed HMAC for exact-match
  search (``WHERE phone_bidx = $1``) that reveals nothing without the index key.

A ciphertext is ``0x01 | len(kid) | kid | nonce(12) | ciphertext+tag``. New ciphertexts use
the active key; old keys only decrypt. Plugins declare their encrypted columns through
the ``register_pii_fields`` hook so that ``kopilka pii rotate`` can re-encrypt them under
the active key, and ``kopilka pii reindex`` can recompute blind indexes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.access.keys import platform_key

if TYPE_CHECKING:
    from core.access.settings import AccessSettings
    from core.platform import Platform

log = logging.getLogger(__name__)

VERSION = 1
DEV_KEY_ID = "dev"


class PiiError(ValueError):
    """A ciphertext that cannot be decrypted (unknown key, wrong context, damaged)."""


@dataclass(frozen=True)
class PiiField:
    """An encrypted column: ``table.column`` holds ciphertexts, rows found by ``key_column``."""

    table: str
    key_column: str
    column: str
    #: The blind-index column of this field, if it has one.
    index_column: str | None = None
    #: How the plaintext is normalised before indexing (must match what the owner does).
    normalize: Callable[[str], str] | None = None

    @property
    def context(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def name(self) -> str:
        return self.context


def generate_key() -> str:
    """A new random key, base64 (for ``pii_keys`` and ``blind_index_key``)."""
    return base64.b64encode(os.urandom(32)).decode()


def _decode_key(kid: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError(f"PII key {kid!r} is not valid base64") from None
    if len(key) != 32:
        raise ValueError(
            f"PII key {kid!r} must be 32 bytes (got {len(key)}); make one with `kopilka pii keygen`"
        )
    return key


class PiiCipher:
    def __init__(self, keys: dict[str, bytes], active: str, index_key: bytes) -> None:
        if active not in keys:
            raise ValueError(
                f"the active PII key {active!r} is not among the keys ({', '.join(keys) or 'none'})"
            )
        for kid in keys:
            if not kid or len(kid.encode()) > 32 or not kid.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"PII key id {kid!r}: use 1-32 letters, digits, '-' or '_'")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active
        self._index_key = index_key

    @classmethod
    def from_settings(cls, settings: AccessSettings, platform: Platform) -> PiiCipher:
        keys = {kid: _decode_key(kid, secret.get_secret_value()) for kid, secret in settings.pii_keys.items()}
        if not keys:
            log.warning("no PII keys configured: using a development key derived from web.secret_key")
            keys = {DEV_KEY_ID: platform_key(platform, "pii.dev")}
        active = settings.pii_active_key or (next(iter(keys)) if len(keys) == 1 else None)
        if active is None:
            raise ValueError(
                "several PII keys are configured: set pii_active_key to the one new data should use"
            )
        if settings.blind_index_key is not None:
            index_key = _decode_key("blind_index_key", settings.blind_index_key.get_secret_value())
        else:
            index_key = platform_key(platform, "pii.blind-index")
        return cls(keys, active, index_key)

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    # -- encryption ---------------------------------------------------------------

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        kid = self.active.encode()
        nonce = os.urandom(12)
        sealed = self._keys[self.active].encrypt(nonce, plaintext.encode(), _aad(context))
        return bytes([VERSION, len(kid)]) + kid + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        kid, nonce, sealed = self._split(blob)
        key = self._keys.get(kid)
        if key is None:
            raise PiiError(f"ciphertext under key {kid!r}, which is not configured")
        try:
            return key.decrypt(nonce, sealed, _aad(context)).decode()
        except Exception:
            raise PiiError(f"ciphertext does not decrypt under key {kid!r} for {context}") from None

    def key_id_of(self, blob: bytes) -> str:
        return self._split(blob)[0]

    def needs_rotation(self, blob: bytes) -> bool:
        return self.key_id_of(blob) != self.active

    def reencrypt(self, blob: bytes, *, context: str) -> bytes:
        return self.encrypt(self.decrypt(blob, context=context), context=context)

    @staticmethod
    def _split(blob: bytes) -> tuple[str, bytes, bytes]:
        blob = bytes(blob)
        if len(blob) < 2 or blob[0] != VERSION:
            raise PiiError("not a kopilka PII ciphertext")
        size = blob[1]
        kid = blob[2 : 2 + size].decode(errors="replace")
        nonce = blob[2 + size : 14 + size]
        sealed = blob[14 + size :]
        if len(nonce) != 12 or len(sealed) < 16:
            raise PiiError("truncated PII ciphertext")
        return kid, nonce, sealed

    # -- exact-match search -----------------------------------------------------------

    def blind_index(self, normalized: str, *, context: str) -> bytes:
        data = context.encode() + b"\x00" + normalized.encode("utf-8", "surrogatepass")
        return hmac.new(self._index_key, data, hashlib.sha256).digest()

    def maybe_encrypt(self, plaintext: str | None, *, context: str) -> bytes | None:
        return None if plaintext in (None, "") else self.encrypt(plaintext, context=context)

    def maybe_decrypt(self, blob: bytes | None, *, context: str) -> str | None:
        return None if blob is None else self.decrypt(blob, context=context)


def _aad(context: str) -> bytes:
    return b"kopilka-pii:" + context.encode()


def mask(value: str | None, keep: int = 2) -> str:
    """``+79991234567`` -> ``+7••••••••67``: enough to recognise, too little to use."""
    if not value:
        return ""
    if "@" in value:
        name, _at, domain = value.partition("@")
        return f"{name[:1]}•••@{domain}"
    if len(value) <= keep * 2:
        return "•" * len(value)
    return value[:keep] + "•" * (len(value) - keep * 2) + value[-keep:]
