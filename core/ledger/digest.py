"""Tamper evidence: a digest per transfer and a hash chain of sealed blocks.

Each transfer's digest is computed when it is written, over a canonical encoding of every
stored field, the running totals included. Committed transfers are later sealed into
blocks in the order of the transaction that wrote them (see :mod:`core.ledger.chain`);
each block hashes its transfers' digests and the previous block's hash. Changing,
inserting or deleting a sealed transfer breaks its block's hash, and rewriting that hash
breaks every later block.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import struct
import uuid
from typing import Any

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ONE_MICROSECOND = dt.timedelta(microseconds=1)
ZERO_HASH = bytes(32)
_NIL = bytes(16)

#: version, id, seq, ledger, kind, debit, credit, amount, timeout, value date, recorded µs, 2 x 4 totals
FIXED = struct.Struct(">B16sqiBqqqqiq8q")
_LENGTH = struct.Struct(">I")
_BLOCK = struct.Struct(">4sqqqq")
VERSION = 1


def micros(moment: dt.datetime) -> int:
    return (moment - EPOCH) // ONE_MICROSECOND


def canonical_json(value: dict[str, Any] | None) -> str:
    """The one text of a metadata object: sorted keys, no spaces, UTF-8 kept as is."""
    if not value:
        return "{}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_tail(
    code: str, pending_id: uuid.UUID | None, reverses_id: uuid.UUID | None, metadata_json: str
) -> bytes:
    """The variable part of a transfer's digest input, after :data:`FIXED`.

    Most transfers of a batch share it (same code, no references, no metadata), so the
    ledger caches it; :func:`transfer_digest` builds the same bytes, so both always agree.
    """
    code_bytes = code.encode()
    meta_bytes = metadata_json.encode()
    return b"".join(
        (
            pending_id.bytes if pending_id else _NIL,
            reverses_id.bytes if reverses_id else _NIL,
            _LENGTH.pack(len(code_bytes)),
            code_bytes,
            _LENGTH.pack(len(meta_bytes)),
            meta_bytes,
        )
    )


def transfer_digest(
    id: uuid.UUID,
    seq: int,
    ledger_id: int,
    kind: int,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    code: str,
    pending_id: uuid.UUID | None,
    reverses_id: uuid.UUID | None,
    timeout_s: int | None,
    value_date: dt.date,
    recorded_micros: int,
    metadata_json: str,
    totals: tuple[int, int, int, int, int, int, int, int],
) -> bytes:
    fixed = FIXED.pack(
        VERSION,
        id.bytes,
        seq,
        ledger_id,
        kind,
        debit_account_id,
        credit_account_id,
        amount,
        -1 if timeout_s is None else timeout_s,
        value_date.toordinal(),
        recorded_micros,
        *totals,
    )
    return hashlib.sha256(fixed + digest_tail(code, pending_id, reverses_id, metadata_json)).digest()


def digest_of_row(row: Any) -> bytes:
    """Recompute a stored transfer's digest from its columns (as read by :data:`TRANSFER_COLUMNS`)."""
    return transfer_digest(
        row["id"],
        row["seq"],
        row["ledger_id"],
        row["kind"],
        row["debit_account_id"],
        row["credit_account_id"],
        row["amount"],
        row["code"],
        row["pending_id"],
        row["reverses_id"],
        row["timeout_s"],
        row["value_date"],
        micros(row["recorded_at"]),
        canonical_json(row["metadata"]),
        (
            row["dr_debits_posted"],
            row["dr_credits_posted"],
            row["dr_debits_pending"],
            row["dr_credits_pending"],
            row["cr_debits_posted"],
            row["cr_credits_posted"],
            row["cr_debits_pending"],
            row["cr_credits_pending"],
        ),
    )


def block_hash(
    height: int, xid_from: int, xid_to: int, count: int, transfers_hash: bytes, prev_hash: bytes
) -> bytes:
    return hashlib.sha256(
        _BLOCK.pack(b"KLB1", height, xid_from, xid_to, count) + transfers_hash + prev_hash
    ).digest()
