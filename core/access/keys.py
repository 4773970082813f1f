"""Keys derived from the deployment's secret, one per purpose.

``web.secret_key`` is the one secret every deployment has; each use gets its own key
through HKDF so a leak of, say, CSRF tokens says nothing about confirmation codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from core.platform import Platform


def derive(secret: bytes, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"kopilka", info=purpose.encode()).derive(
        secret
    )


def platform_key(platform: Platform, purpose: str) -> bytes:
    """A key for ``purpose`` derived from ``web.secret_key``."""
    return derive(platform.core.web.secret_key.get_secret_value().encode(), purpose)
