"""Background tasks of the ledger."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.platform import Platform


async def expire_pending(platform: Platform) -> int:
    """Release the holds of pending transfers whose timeout has passed (one ``expire`` transfer each)."""
    from core.ledger.service import Ledger

    return await platform.service(Ledger).expire_pending()


async def seal(platform: Platform) -> int:
    """Seal committed transfers into the hash chain; returns the number of transfers sealed."""
    from core.ledger.service import Ledger

    blocks = await platform.service(Ledger).seal()
    return sum(block.transfers for block in blocks)
