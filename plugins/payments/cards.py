"""Saved cards: provider tokens kept encrypted, for recurring charges and payouts.

A token lets us charge the customer's card without them, so it is a secret: it is
encrypted with the platform's personal-data cipher (``core.access.pii``: AES-GCM, key
rotation with ``kopilka pii rotate``), found again by a keyed blind index, never shown,
and decrypted only when a gateway needs it. Card numbers never reach us; only the masked
number the provider reports.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from core.access.pii import PiiCipher, PiiError, PiiField
from core.contracts.payments import SavedCard
from core.db.database import Database

TOKEN_FIELD = PiiField("payments_cards", "id", "token_enc", index_column="token_bidx")
#: Where payouts go (account number, holder): personal data, encrypted like the token.
DESTINATION_FIELD = PiiField("payments_payments", "id", "destination_enc")


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


_INFO = "id, user_id, gateway, masked_pan, brand, expires, created_at, last_used_at"


class CardVault:
    def __init__(self, db: Database, cipher: PiiCipher) -> None:
        self.db = db
        self.cipher = cipher

    async def save(self, *, user_id: UUID, gateway: str, card: SavedCard, source_payment_id: UUID) -> UUID:
        """Keep ``card`` for ``user_id`` (the same token saved twice stays one card)."""
        context = TOKEN_FIELD.context
        row = await self.db.fetchrow(
            """INSERT INTO payments_cards (id, user_id, gateway, token_enc, token_bidx, masked_pan, brand, expires,
                   source_payment_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (user_id, gateway, token_bidx)
               DO UPDATE SET revoked_at = NULL, masked_pan = EXCLUDED.masked_pan
               RETURNING id""",
            uuid.uuid4(), user_id, gateway, self.cipher.encrypt(card.token, context=context),
            self.cipher.blind_index(card.token, context=context), card.masked_pan[:40], card.brand[:40],
            card.expires[:10], source_payment_id,
        )
        return row["id"]

    async def cards(self, user_id: UUID, gateway: str | None = None) -> list[CardInfo]:
        rows = await self.db.fetch(
            f"""SELECT {_INFO} FROM payments_cards
                WHERE user_id = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR gateway = $2)
                ORDER BY created_at DESC""", user_id, gateway)
        return [CardInfo(**dict(r)) for r in rows]

    async def card(self, user_id: UUID, card_id: UUID) -> CardInfo | None:
        found = [c for c in await self.cards(user_id) if c.id == card_id]
        return found[0] if found else None

    async def token(self, user_id: UUID, card_id: UUID) -> tuple[CardInfo, str] | None:
        """The card and its decrypted token, if it is the user's and not revoked."""
        row = await self.db.fetchrow(
            f"SELECT {_INFO}, token_enc FROM payments_cards WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            card_id, user_id)
        if row is None:
            return None
        values = dict(row)
        encrypted = values.pop("token_enc")
        try:
            token = self.cipher.decrypt(encrypted, context=TOKEN_FIELD.context)
        except PiiError:
            # The key that encrypted it is gone: the card can no longer be used.
            return None
        return CardInfo(**values), token

    async def used(self, card_id: UUID) -> None:
        await self.db.execute("UPDATE payments_cards SET last_used_at = now() WHERE id = $1", card_id)

    async def revoke(self, user_id: UUID, card_id: UUID) -> bool:
        status = await self.db.execute(
            "UPDATE payments_cards SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            card_id, user_id)
        return status.endswith(" 1")
