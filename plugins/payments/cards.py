"""Saved cards: provider tokens kept encrypted, for recurring charges and payouts.

A token lets us charge the customer's card without them, so it is a secret: it is
stored Fernet-encrypted (the key is ``card_token_key`` or derived from the web secret),
looked up by its SHA-256, never shown, and only decrypted when a gateway needs it.
Card numbers themselves never reach us; only the masked number the provider reports.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.contracts.payments import SavedCard
from core.db.database import Database


@dataclass(frozen=True)
class CardInfo:
    """A saved card as customers and other plugins see it (no token)."""

    id: UUID
    user_id: UUID
    gateway: str
    masked_pan: str
    brand: str
    expires: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "gateway": self.gateway, "card": self.masked_pan, "brand": self.brand,
                "expires": self.expires, "created_at": self.created_at.isoformat()}


def derive_key(secret: str) -> bytes:
    """A Fernet key derived from another secret (HKDF-SHA256, a label of its own)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"kopilka.payments.card-tokens").derive(
        secret.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


class CardVault:
    def __init__(self, db: Database, key: bytes) -> None:
        self.db = db
        self.fernet = Fernet(key)

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    async def save(self, *, user_id: UUID, gateway: str, card: SavedCard, source_payment_id: UUID) -> UUID:
        """Keep ``card`` for ``user_id`` (the same token saved twice stays one card)."""
        row = await self.db.fetchrow(
            """INSERT INTO payments_cards (id, user_id, gateway, token_encrypted, token_sha256, masked_pan, brand,
                   expires, source_payment_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (user_id, gateway, token_sha256)
               DO UPDATE SET revoked_at = NULL, masked_pan = EXCLUDED.masked_pan
               RETURNING id""",
            uuid.uuid4(), user_id, gateway, self.fernet.encrypt(card.token.encode()).decode(), self._digest(card.token),
            card.masked_pan[:40], card.brand[:40], card.expires[:10], source_payment_id,
        )
        return row["id"]

    async def cards(self, user_id: UUID, gateway: str | None = None) -> list[CardInfo]:
        rows = await self.db.fetch(
            """SELECT id, user_id, gateway, masked_pan, brand, expires, created_at, last_used_at FROM payments_cards
               WHERE user_id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR gateway = $2)
               ORDER BY created_at DESC""", user_id, gateway)
        return [CardInfo(**dict(r)) for r in rows]

    async def card(self, user_id: UUID, card_id: UUID) -> CardInfo | None:
        found = [c for c in await self.cards(user_id) if c.id == card_id]
        return found[0] if found else None

    async def token(self, user_id: UUID, card_id: UUID) -> tuple[CardInfo, str] | None:
        """The card and its decrypted token, if it is the user's and not revoked."""
        row = await self.db.fetchrow(
            """SELECT id, user_id, gateway, masked_pan, brand, expires, created_at, last_used_at, token_encrypted
               FROM payments_cards WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL""", card_id, user_id)
        if row is None:
            return None
        values = dict(row)
        encrypted = values.pop("token_encrypted")
        try:
            token = self.fernet.decrypt(encrypted.encode()).decode()
        except InvalidToken:
            # The key changed since the card was saved: the card can no longer be used.
            return None
        return CardInfo(**values), token

    async def used(self, card_id: UUID) -> None:
        await self.db.execute("UPDATE payments_cards SET last_used_at = now() WHERE id = $1", card_id)

    async def revoke(self, user_id: UUID, card_id: UUID) -> bool:
        status = await self.db.execute(
            "UPDATE payments_cards SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            card_id, user_id)
        return status.endswith(" 1")
