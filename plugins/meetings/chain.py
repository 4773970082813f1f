"""The event chain of a meeting: every step that the law asks to prove, hash-linked.

Each event's hash is SHA-256 over the previous hash and the canonical JSON of the event (its number,
kind, payload, actor and time), so changing, removing or reordering any event breaks every hash after
it. The table refuses UPDATE and DELETE, the meeting row holds the head of the chain, and
:func:`verify` recomputes it from the first event (``kopilka meetings verify``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from core.access.confirmations import canonical

GENESIS = "0" * 64


def event_hash(prev_hash: str, seq: int, kind: str, payload: Mapping[str, Any], actor: str, at: dt.datetime) -> str:
    body = canonical({"seq": seq, "kind": kind, "payload": payload, "actor": actor,
                      "at": at.astimezone(dt.UTC).isoformat()})
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def append(db: Any, meeting_id: UUID, kind: str, payload: Mapping[str, Any], actor: str) -> int:
    """Add an event; must run inside the caller's transaction (it locks the meeting row)."""
    assert db.in_transaction, "events are appended in the transaction of what they record"
    row = await db.fetchrow("SELECT last_seq, head_hash FROM meetings_meetings WHERE id = $1 FOR UPDATE", meeting_id)
    seq = row["last_seq"] + 1
    at = dt.datetime.now(dt.UTC)
    digest = event_hash(row["head_hash"], seq, kind, payload, actor, at)
    await db.execute(
        """INSERT INTO meetings_events (meeting_id, seq, kind, payload, actor, at, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
        meeting_id, seq, kind, dict(payload), actor[:100], at, row["head_hash"], digest,
    )
    await db.execute("UPDATE meetings_meetings SET last_seq = $2, head_hash = $3 WHERE id = $1", meeting_id, seq,
                     digest)
    return seq


async def verify(db: Any, meeting_id: UUID) -> list[str]:
    """Problems found in a meeting's chain (empty when it is whole)."""
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    rows = await db.fetch("SELECT * FROM meetings_events WHERE meeting_id = $1 ORDER BY seq", meeting_id)
    for row in rows:
        if row["seq"] != expected_seq:
            problems.append(f"event {expected_seq} is missing (next is {row['seq']})")
        if row["prev_hash"] != prev:
            problems.append(f"event {row['seq']} does not follow the one before it")
        digest = event_hash(row["prev_hash"], row["seq"], row["kind"], row["payload"], row["actor"], row["at"])
        if digest != row["hash"]:
            problems.append(f"event {row['seq']} ({row['kind']}) was altered")
        prev, expected_seq = row["hash"], row["seq"] + 1
    head = await db.fetchrow("SELECT last_seq, head_hash FROM meetings_meetings WHERE id = $1", meeting_id)
    if head is not None and (head["head_hash"] != prev or head["last_seq"] != expected_seq - 1):
        problems.append("the meeting's head hash does not match its last event")
    return problems
