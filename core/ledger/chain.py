"""Sealing committed transfers into a hash chain of blocks, without slowing down writers.

A single "chain head" updated by every writer would serialize all writers of all processes
on one row. Instead each transfer carries its digest (computed when written) and the id of
the transaction that wrote it (``xid``), and sealing happens later, in the background:

* ``horizon`` = the oldest transaction still running (``pg_snapshot_xmin``). Every
  transaction with a smaller id has finished, so no transfer with ``xid < horizon`` can
  appear any more: that part of the history is final.
* The next block takes the transfers with ``last block's xid_to <= xid < horizon`` in
  ``(xid, seq)`` order, hashes their digests, and links to the previous block's hash.

Blocks never split a transaction's transfers. One sealer runs at a time (an advisory
lock); a second one simply finds nothing to do.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from core.ledger.digest import ZERO_HASH, block_hash

SEAL_LOCK = "kopilka.ledger.seal"

_HORIZON = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
_LAST_BLOCK = "SELECT height, xid_to, hash FROM ledger_blocks ORDER BY height DESC LIMIT 1"
_DIGESTS = "SELECT xid, digest FROM ledger_transfers WHERE xid >= $1 AND xid < $2 ORDER BY xid, seq"
_INSERT_BLOCK = """
INSERT INTO ledger_blocks (height, xid_from, xid_to, transfers, transfers_hash, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


@dataclass(frozen=True)
class Block:
    height: int
    xid_from: int
    xid_to: int
    transfers: int
    transfers_hash: bytes
    prev_hash: bytes
    hash: bytes


async def _digests(conn: Any, xid_from: int, xid_to: int) -> AsyncIterator[Any]:
    async for row in conn.cursor(_DIGESTS, xid_from, xid_to, prefetch=5000):
        yield row


async def seal(db: Any, *, block_max: int = 100_000) -> list[Block]:
    """Seal every final, unsealed transfer into new blocks; returns the blocks made."""
    made: list[Block] = []
    async with db.transaction() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", SEAL_LOCK):
            return made  # another process is sealing
        horizon = await conn.fetchval(_HORIZON)
        last = await conn.fetchrow(_LAST_BLOCK)
        height, start, prev = (
            (last["height"] + 1, last["xid_to"], last["hash"]) if last else (1, 0, ZERO_HASH)
        )
        if start >= horizon:
            return made

        digests: list[bytes] = []
        current_xid = -1
        async for row in _digests(conn, start, horizon):
            xid = row["xid"]
            if len(digests) >= block_max and xid != current_xid:
                block = _block(height, start, xid, digests, prev)
                await _insert(conn, block)
                made.append(block)
                height, start, prev, digests = height + 1, xid, block.hash, []
            digests.append(row["digest"])
            current_xid = xid
        if digests:  # an empty range is left for the next block to cover
            block = _block(height, start, horizon, digests, prev)
            await _insert(conn, block)
            made.append(block)
    return made


def _block(height: int, xid_from: int, xid_to: int, digests: list[bytes], prev: bytes) -> Block:
    transfers_hash = hashlib.sha256(b"".join(digests)).digest()
    return Block(
        height,
        xid_from,
        xid_to,
        len(digests),
        transfers_hash,
        prev,
        block_hash(height, xid_from, xid_to, len(digests), transfers_hash, prev),
    )


async def _insert(conn: Any, block: Block) -> None:
    await conn.execute(
        _INSERT_BLOCK,
        block.height,
        block.xid_from,
        block.xid_to,
        block.transfers,
        block.transfers_hash,
        block.prev_hash,
        block.hash,
    )


async def check_chain(conn: Any) -> AsyncIterator[tuple[str | None, int]]:
    """Walk the blocks; yields ``(fault or None, transfers sealed so far)`` per block.

    ``conn`` must be in a transaction (the cursor needs one) that sees one snapshot.
    """
    prev = ZERO_HASH
    expected_from = 0
    expected_height = 1
    sealed = 0
    for block in await conn.fetch("SELECT * FROM ledger_blocks ORDER BY height"):
        height = block["height"]
        if height != expected_height:
            yield f"block {expected_height} is missing (found block {height} next)", sealed
            return
        if block["prev_hash"] != prev:
            yield f"block {height} does not link to block {height - 1}: prev_hash differs", sealed
            return
        if block["xid_from"] != expected_from:
            yield f"block {height} starts at transaction {block['xid_from']}, not {expected_from}", sealed
            return
        hasher = hashlib.sha256()
        count = 0
        async for row in _digests(conn, block["xid_from"], block["xid_to"]):
            hasher.update(row["digest"])
            count += 1
        if count != block["transfers"]:
            yield (
                (
                    f"block {height} sealed {block['transfers']} transfers, but {count} are stored in its range "
                    "(transfers were added or deleted after sealing)"
                ),
                sealed,
            )
            return
        transfers_hash = hasher.digest()
        if transfers_hash != block["transfers_hash"]:
            yield (
                f"block {height}: its transfers do not hash to the sealed value (a sealed transfer changed)",
                sealed,
            )
            return
        expected = block_hash(height, block["xid_from"], block["xid_to"], count, transfers_hash, prev)
        if expected != block["hash"]:
            yield f"block {height}: stored hash does not match its contents", sealed
            return
        sealed += count
        prev = block["hash"]
        expected_from = block["xid_to"]
        expected_height += 1
        yield None, sealed
