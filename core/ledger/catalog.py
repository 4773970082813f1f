"""The ledgers (currencies and assets) known to this process, by id and by code.

Ledgers are few and never change once created, so every process keeps them in memory
and reloads only when it meets an id or code it has not seen (another process made it).
"""

from __future__ import annotations

from typing import Any

from babel.numbers import is_currency

from core.ledger.model import LedgerInfo
from core.money import MoneyError, exponent


class UnknownLedger(ValueError):
    """A currency or asset code with no ledger and no known scale."""


class Catalog:
    def __init__(self, assets: dict[str, int] | None = None) -> None:
        #: Scales of non-currency assets allowed to get a ledger on first use (settings).
        self.assets = dict(assets or {})
        self.by_id: dict[int, LedgerInfo] = {}
        self.by_code: dict[str, LedgerInfo] = {}

    async def load(self, conn: Any) -> None:
        rows = await conn.fetch("SELECT id, code, scale FROM ledger_ledgers")
        for row in rows:
            info = LedgerInfo(row["id"], row["code"], row["scale"])
            self.by_id[info.id] = info
            self.by_code[info.code] = info

    def forget(self) -> None:
        self.by_id.clear()
        self.by_code.clear()

    async def code_of(self, conn: Any, ledger_id: int) -> str:
        if ledger_id not in self.by_id:
            await self.load(conn)
        return self.by_id[ledger_id].code

    async def ensure_ids(self, conn: Any, ledger_ids: set[int]) -> None:
        if not ledger_ids.issubset(self.by_id):
            await self.load(conn)

    def default_scale(self, code: str) -> int:
        if code in self.assets:
            return self.assets[code]
        try:
            if not is_currency(code):
                raise MoneyError(code)
            return exponent(code)
        except MoneyError:
            raise UnknownLedger(
                f"{code!r} is neither an ISO 4217 currency nor an asset declared in the ledger settings "
                '([plugins."core.ledger"] assets = { CODE = scale })'
            ) from None

    async def ensure(self, conn: Any, code: str, scale: int | None = None) -> LedgerInfo:
        """The ledger of ``code``, created on first use (scale from ISO 4217 or the settings)."""
        info = self.by_code.get(code)
        if info is None:
            await self.load(conn)
            info = self.by_code.get(code)
        if info is None:
            if scale is None:
                scale = self.default_scale(code)
            row = await conn.fetchrow(
                "INSERT INTO ledger_ledgers (code, scale) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING "
                "RETURNING id, code, scale",
                code,
                scale,
            )
            if row is None:  # another process created it first
                row = await conn.fetchrow("SELECT id, code, scale FROM ledger_ledgers WHERE code = $1", code)
            info = LedgerInfo(row["id"], row["code"], row["scale"])
            self.by_id[info.id] = info
            self.by_code[info.code] = info
        if scale is not None and scale != info.scale:
            raise ValueError(f"ledger {code} has scale {info.scale}, not {scale}; a scale cannot change")
        return info
