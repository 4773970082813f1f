"""Applying a batch of requests: the one write path, shared by inline and group-committed calls.

A batch is applied in four steps on one connection, inside a transaction (or savepoint)
owned by the caller:

1. read the transfers the batch names (its own ids, for idempotency; the pending and
   original transfers it refers to, to learn their accounts);
2. lock every account involved, once, in id order (no deadlocks between batches), and read
   their totals; then the database clock, the business date and a block of sequence numbers;
3. apply TigerBeetle's rules in Python, request after request, each seeing the effect of
   the ones before; a linked chain is undone as a whole when one of its requests fails.
   Each transfer created gets its sequence number, running totals and digest at once;
4. write: a small batch with one set-based statement (``unnest`` arrays, data-modifying
   CTEs); a large one with a binary COPY straight into ``ledger_transfers`` and one
   statement for the account totals (staged with COPY too) and the holds.

The results (and the ``Transfer`` records in them) are built after the commit, outside
the locks.

Another transaction may have committed the same id in the meantime (a retry that raced
the original). The small batch's insert skips it (``ON CONFLICT DO NOTHING``) and
:class:`Conflict` is raised; the COPY fails on the unique index. Either way the caller
rolls back and applies the batch again, which now answers ``exists``. The rows of a batch
are inserted in id order, so two batches racing on several ids wait for each other in one
order and never deadlock.

This is the hot path of every movement of money, so it is written for the CPU: shared
constants instead of a tuple per result, one tuple per created transfer, binary COPY rows
packed with ``struct`` and cached encodings of what most transfers share (code, no
metadata, no references).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import struct
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from core.ledger.catalog import Catalog
from core.ledger.digest import EPOCH, FIXED, ONE_MICROSECOND, VERSION, canonical_json, digest_tail
from core.ledger.model import (
    AccountFlags,
    ExpirePending,
    NewTransfer,
    PostPending,
    Request,
    ResultCode,
    Reversal,
    Totals,
    Transfer,
    TransferKind,
    TransferResult,
    VoidPending,
)
from core.ledger.speculation import Attempt, Missed, Speculation

MAX_AMOUNT = 2**63 - 1
MAX_CODE_LENGTH = 64
MAX_METADATA_BYTES = 8192
MAX_TIMEOUT_S = 10 * 366 * 24 * 3600
#: A batch never holds more requests than one block of sequence numbers (see the migration).
MAX_BATCH = 8190

_DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
_CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
_CLOSED = int(AccountFlags.CLOSED)

_POSTED, _PENDING, _POST, _VOID, _EXPIRE = (int(k) for k in TransferKind)
_KINDS = tuple(TransferKind)

R = ResultCode
#: The outcome of every request applied without trouble: one shared tuple, not one per request.
_OK = (R.OK, "", None)

TRANSFER_COLUMNS = """id, seq, ledger_id, kind, debit_account_id, credit_account_id, amount, code, pending_id,
    reverses_id, timeout_s, value_date, recorded_at, metadata,
    dr_debits_posted, dr_credits_posted, dr_debits_pending, dr_credits_pending,
    cr_debits_posted, cr_credits_posted, cr_debits_pending, cr_credits_pending"""

_SELECT_TRANSFERS = f"SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = ANY($1::uuid[])"

# The accounts, locked in id order; then one more row (its id is NULL), read after the locks:
# the latest recorded time of those accounts and the clock (both in microseconds since
# 1970), the business date (days since 1970) and a block of sequence numbers. One row of
# plain integers instead of timestamps on every account row: decoding those cost more
# than the locks.
_LOCK_ACCOUNTS = """
WITH locked AS (
    SELECT id, ctid, ledger_id, flags, debits_limit, credits_limit,
           debits_posted, credits_posted, debits_pending, credits_pending, updated_at
    FROM ledger_accounts WHERE id = ANY($1::bigint[])
    ORDER BY id
    FOR NO KEY UPDATE
)
SELECT id, ctid, ledger_id, flags, debits_limit, credits_limit,
       debits_posted, credits_posted, debits_pending, credits_pending
FROM locked
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT (extract(epoch FROM max(updated_at)) * 1000000)::int8 FROM locked),
       (extract(epoch FROM clock_timestamp()) * 1000000)::int8,
       (coalesce((SELECT business_date FROM core_business_date LIMIT 1), current_date) - DATE '1970-01-01')::int8,
       nextval('ledger_transfer_seq')
"""

# The speculative path (see speculation.py). Before the locks: the accounts no batch of this
# process has in flight, unlocked, with their last recorded time; then the clock, the
# business date and a block of sequence numbers.
_READ_AHEAD = """
SELECT id, ledger_id, flags, debits_limit, credits_limit,
       debits_posted, credits_posted, debits_pending, credits_pending,
       (extract(epoch FROM updated_at) * 1000000)::int8
FROM ledger_accounts WHERE id = ANY($1::bigint[])
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL,
       (extract(epoch FROM clock_timestamp()) * 1000000)::int8,
       (coalesce((SELECT business_date FROM core_business_date LIMIT 1), current_date) - DATE '1970-01-01')::int8,
       nextval('ledger_transfer_seq'), NULL
"""
# For a few thousand ids the planner prefers a sequential scan of every account (then a
# sort); walking the primary key in id order locks the same rows in about half the time,
# and that time is spent holding the hot account's lock. SET LOCAL lasts until the commit,
# so only a batch in its own transaction may say it, never one inside a caller's.
_PREFER_INDEX_SCAN = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"
#: From this many accounts on, a batch in its own transaction asks for the index scan.
INDEX_SCAN_FROM = 256

# Read after the locks: resolving or reversing a transfer needs the locks of its accounts,
# so what this sees cannot change before the batch commits.
_REFERENCES_AFTER_LOCK = """
SELECT 'hold' AS what, pending_id AS ref, NULL::uuid AS by, 0::smallint AS kind, expires_at
  FROM ledger_holds WHERE pending_id = ANY($1::uuid[])
UNION ALL
SELECT 'resolved', pending_id, id, kind, NULL FROM ledger_transfers WHERE pending_id = ANY($1::uuid[])
UNION ALL
SELECT 'reversed', reverses_id, id, kind, NULL FROM ledger_transfers WHERE reverses_id = ANY($2::uuid[])
"""

# -- small batches: one statement with array parameters -----------------------------------

_TRANSFER_FIELDS = """id, seq, ledger_id, kind, debit, credit, amount, code, pending_id, reverses_id, timeout_s,
    value_date, metadata, d1, d2, d3, d4, c1, c2, c3, c4, digest"""

_HOLDS_AND_RELEASES = """held AS (
    INSERT INTO ledger_holds (pending_id, ledger_id, debit_account_id, credit_account_id, amount, expires_at)
    SELECT * FROM unnest({h0}::uuid[], {h1}::int4[], {h2}::int8[], {h3}::int8[], {h4}::int8[], {h5}::timestamptz[])
    RETURNING 1
), released AS (
    DELETE FROM ledger_holds WHERE pending_id = ANY({released}::uuid[])
    RETURNING 1
)"""

_UPDATE_ACCOUNTS = """updated AS (
    UPDATE ledger_accounts AS a
    SET debits_posted = u.dp, credits_posted = u.cp, debits_pending = u.dpe, credits_pending = u.cpe,
        updated_at = {recorded}::timestamptz
    FROM {accounts}
    -- Reach each row by the tuple id the lock returned (a TID scan per row): joining on id
    -- alone makes the planner hash every account. The rows are locked, so their tids hold.
    WHERE a.ctid = u.row_tid AND a.id = u.id
    RETURNING 1
)"""

# $1..$22 transfers, $23 released holds, $24 recorded_at, $25..$30 accounts, $31..$36 new holds.
_WRITE_ARRAYS = (
    """
WITH inserted AS (
    INSERT INTO ledger_transfers (id, seq, ledger_id, kind, debit_account_id, credit_account_id, amount, code,
        pending_id, reverses_id, timeout_s, value_date, recorded_at, metadata,
        dr_debits_posted, dr_credits_posted, dr_debits_pending, dr_credits_pending,
        cr_debits_posted, cr_credits_posted, cr_debits_pending, cr_credits_pending, digest)
    SELECT t.id, t.seq, t.ledger_id, t.kind, t.debit, t.credit, t.amount, t.code, t.pending_id, t.reverses_id,
        t.timeout_s, t.value_date, $24::timestamptz, t.metadata::jsonb,
        t.d1, t.d2, t.d3, t.d4, t.c1, t.c2, t.c3, t.c4, t.digest
    FROM unnest($1::uuid[], $2::int8[], $3::int4[], $4::int2[], $5::int8[], $6::int8[], $7::int8[],
        $8::text[], $9::uuid[], $10::uuid[], $11::int4[], $12::date[], $13::text[], $14::int8[], $15::int8[],
        $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], $21::int8[], $22::bytea[])
        AS t("""
    + _TRANSFER_FIELDS
    + """)
    ORDER BY t.id  -- the same order in every batch: racing inserts of one id wait, never deadlock
    ON CONFLICT (id) DO NOTHING
    RETURNING 1
), """
    + _UPDATE_ACCOUNTS.format(
        recorded="$24",
        accounts="unnest($25::tid[], $26::int8[], $27::int8[], $28::int8[], $29::int8[], $30::int8[])"
        " AS u(row_tid, id, dp, cp, dpe, cpe)",
    )
    + ", "
    + _HOLDS_AND_RELEASES.format(h0="$31", h1="$32", h2="$33", h3="$34", h4="$35", h5="$36", released="$23")
    + """
SELECT (SELECT count(*) FROM inserted) AS inserted, (SELECT count(*) FROM updated) AS updated,
       (SELECT count(*) FROM held) AS held, (SELECT count(*) FROM released) AS released
"""
)

# -- large batches: binary COPY -------------------------------------------------------------

#: From this many requests on, a batch is written with COPY.
COPY_FROM = 64

#: The columns of the COPY into ledger_transfers, fixed-width ones first (one struct each row).
COPY_COLUMNS = [
    "id",
    "seq",
    "ledger_id",
    "kind",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "value_date",
    "recorded_at",
    "dr_debits_posted",
    "dr_credits_posted",
    "dr_debits_pending",
    "dr_credits_pending",
    "cr_debits_posted",
    "cr_credits_posted",
    "cr_debits_pending",
    "cr_credits_pending",
    "digest",
    "code",
    "metadata",
    "pending_id",
    "reverses_id",
    "timeout_s",
]
# A binary COPY row is the field count, then each field as its length and its bytes. The
# row starts with the id, so sorting the encoded rows sorts them by id.
_COPY_ROW = struct.Struct(">hi16siqiiihiqiqiqiiiq" + "iq" * 8 + "i32s")
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_COPY_NULL = b"\xff\xff\xff\xff"
_COPY_INT4 = struct.Struct(">ii")
_COPY_UUID = struct.Struct(">i16s")
_COPY_LENGTH = struct.Struct(">i")
#: PostgreSQL's epoch is 2000-01-01: days and microseconds after it.
_PG_EPOCH_DAYS = dt.date(2000, 1, 1).toordinal()
_PG_EPOCH_US = 946_684_800_000_000
_UNIX_EPOCH_DAYS = dt.date(1970, 1, 1).toordinal()

_STAGE_ACCOUNTS = """
CREATE TEMP TABLE IF NOT EXISTS ledger_stage_accounts (
    row_tid tid, id int8, dp int8, cp int8, dpe int8, cpe int8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ledger_stage_checked (
    id int8, dp int8, cp int8, dpe int8, cpe int8, expected_us int8, touched bool
) ON COMMIT DELETE ROWS
"""
#: A speculative batch's account row: id, the four totals, the updated_at it assumed, touched.
_STAGE_CHECKED_ROW = struct.Struct(">hiqiqiqiqiqiqi?")
_STAGE_ACCOUNT_ROW = struct.Struct(">hiIHiqiqiqiqiq")
#: Backend process ids of the sessions that have the staging table.
_staged_sessions: set[int] = set()


def _write_staged(*, clear: bool) -> str:
    """The statement after the COPY: $1 released holds, $2 recorded_at, $3..$8 new holds.

    ``clear`` empties the staging table; a batch in its own transaction leaves that to the
    commit (``ON COMMIT DELETE ROWS``), one inside a caller's transaction cannot.
    """
    unstage = ", unstaged AS (DELETE FROM ledger_stage_accounts RETURNING 1)" if clear else ""
    return (
        "WITH "
        + _UPDATE_ACCOUNTS.format(recorded="$2", accounts="ledger_stage_accounts AS u")
        + ", "
        + _HOLDS_AND_RELEASES.format(h0="$3", h1="$4", h2="$5", h3="$6", h4="$7", h5="$8", released="$1")
        + unstage
        + """
SELECT (SELECT count(*) FROM updated) AS updated, (SELECT count(*) FROM held) AS held,
       (SELECT count(*) FROM released) AS released"""
    )


# The speculative batch's only statement under locks: each account is updated only if its
# updated_at is still the one the batch assumed. Every write of an account moves updated_at
# forward (a transfer to its recorded time, a limit or flag change by a microsecond at
# least), so an unchanged updated_at means an unchanged account. The UPDATE takes the row
# locks as it goes, walking the staged rows in id order (the planner is told to join by
# looking each up in the primary key), the same order every batch locks in; a row another
# transaction holds is waited for and then checked again in its new version. Fewer rows
# updated than staged: something changed, and the batch is rolled back and applied the
# plain way. Accounts no transfer changed are rewritten as they were, for the check and the
# lock. $1 released holds, $2 recorded_at, $3..$8 new holds.
_PREFER_LOOKUPS = (
    "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;"
    " SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off"
)
_WRITE_CHECKED = (
    """
WITH updated AS (
    UPDATE ledger_accounts AS a
    SET debits_posted = u.dp, credits_posted = u.cp, debits_pending = u.dpe, credits_pending = u.cpe,
        updated_at = CASE WHEN u.touched THEN $2::timestamptz ELSE a.updated_at END
    FROM ledger_stage_checked AS u
    WHERE a.id = u.id AND a.updated_at = timestamptz 'epoch' + u.expected_us * interval '1 microsecond'
    RETURNING 1
), """
    + _HOLDS_AND_RELEASES.format(h0="$3", h1="$4", h2="$5", h3="$6", h4="$7", h5="$8", released="$1")
    + """
SELECT (SELECT count(*) FROM updated) AS updated, (SELECT count(*) FROM held) AS held,
       (SELECT count(*) FROM released) AS released,
       (coalesce((SELECT business_date FROM core_business_date LIMIT 1), current_date) - DATE '1970-01-01')::int8
           AS business_days
"""
)

_WRITE_STAGED = _write_staged(clear=True)
_WRITE_STAGED_OWN_TRANSACTION = _write_staged(clear=False)


class Conflict(Exception):
    """Another transaction wrote what this batch assumed absent; roll back and apply again."""


#: Errors after which applying the same batch again is the right answer.
RETRYABLE = (
    Conflict,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.UniqueViolationError,
)


def transfer_from_row(row: Any, currency: str) -> Transfer:
    return Transfer(
        id=row["id"],
        seq=row["seq"],
        currency=currency,
        kind=TransferKind(row["kind"]),
        debit_account_id=row["debit_account_id"],
        credit_account_id=row["credit_account_id"],
        amount=row["amount"],
        code=row["code"],
        metadata=row["metadata"],
        value_date=row["value_date"],
        recorded_at=row["recorded_at"],
        pending_id=row["pending_id"],
        reverses_id=row["reverses_id"],
        timeout_s=row["timeout_s"],
        debit_totals=Totals(
            row["dr_debits_posted"],
            row["dr_credits_posted"],
            row["dr_debits_pending"],
            row["dr_credits_pending"],
        ),
        credit_totals=Totals(
            row["cr_debits_posted"],
            row["cr_credits_posted"],
            row["cr_debits_pending"],
            row["cr_credits_pending"],
        ),
    )


# -- checks that need no database ---------------------------------------------------------


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be stored as metadata, or None."""
    if depth > 16:
        return "nested too deeply"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"key {key!r} is not a string"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, list | tuple):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, float):
        return "floats are not allowed (write decimals as strings)"
    if isinstance(value, str):
        return "strings must not contain NUL" if "\x00" in value else None
    if value is None or isinstance(value, bool | int):
        return None
    return f"{type(value).__name__} is not JSON"


def static_problem(r: Request) -> tuple[ResultCode, str] | tuple[None, str]:
    """Check what can be checked without the database; returns (code, detail) or (None, metadata JSON)."""
    if r.id.int == 0:
        return R.ID_MUST_NOT_BE_ZERO, "id must not be the nil UUID"
    code = r.code
    if code is not None and len(code) > MAX_CODE_LENGTH:
        return R.INVALID_FIELD, f"code is longer than {MAX_CODE_LENGTH} characters"
    if r.value_date is not None and isinstance(r.value_date, dt.datetime):
        return R.INVALID_FIELD, "value_date must be a date, not a datetime"
    meta = r.metadata
    if meta:
        problem = _json_problem(meta)
        if problem:
            return R.INVALID_FIELD, f"metadata: {problem}"
        meta_json = canonical_json(meta)
        if len(meta_json.encode()) > MAX_METADATA_BYTES:
            return R.INVALID_FIELD, f"metadata is larger than {MAX_METADATA_BYTES} bytes"
    else:
        meta_json = "{}"
    op = type(r)
    if op is NewTransfer:
        if r.amount <= 0:
            return R.AMOUNT_MUST_BE_POSITIVE, "amount must be a positive number of minor units"
        if r.amount > MAX_AMOUNT:
            return R.OVERFLOW, "amount does not fit in 64 bits"
        if r.debit_account_id == r.credit_account_id:
            return R.ACCOUNTS_MUST_BE_DIFFERENT, "debit and credit account are the same"
        if r.timeout_s is not None:
            if not r.pending:
                return R.INVALID_FIELD, "timeout_s is only for pending transfers"
            if not 1 <= r.timeout_s <= MAX_TIMEOUT_S:
                return (
                    R.INVALID_FIELD,
                    "timeout_s must be between 1 second and 10 years (omit it for no timeout)",
                )
    elif op is PostPending or op is Reversal:
        if r.amount is not None:
            if r.amount <= 0:
                return R.AMOUNT_MUST_BE_POSITIVE, "amount must be positive (omit it for the full amount)"
            if r.amount > MAX_AMOUNT:
                return R.OVERFLOW, "amount does not fit in 64 bits"
    return None, meta_json


_REQUEST_TYPES = (NewTransfer, PostPending, VoidPending, ExpirePending, Reversal)
_UUID = uuid.UUID


def _type_error(r: Any) -> str | None:
    op = type(r)
    if op not in _REQUEST_TYPES:
        return f"expected NewTransfer, PostPending, VoidPending or Reversal, got {op.__name__}"
    if not isinstance(r.id, uuid.UUID):  # asyncpg returns a subclass
        return "id must be a uuid.UUID (use transfer_id(...) or new_transfer_id())"
    if op is NewTransfer:
        # `type(x) is int` also refuses bool, which is an int to isinstance.
        if (
            type(r.amount) is not int
            or type(r.debit_account_id) is not int
            or type(r.credit_account_id) is not int
        ):
            return "amount and account ids must be ints (minor units, account ids)"
        if r.timeout_s is not None and type(r.timeout_s) is not int:
            return "timeout_s must be an int"
    else:
        ref = r.original_id if op is Reversal else r.pending_id
        if not isinstance(ref, uuid.UUID):
            return f"{'original_id' if op is Reversal else 'pending_id'} must be a uuid.UUID"
        amount = getattr(r, "amount", None)
        if amount is not None and type(amount) is not int:
            return "amount must be an int of minor units"
    if r.code is not None and type(r.code) is not str:
        return "code must be a string"
    if r.metadata is not None and not isinstance(r.metadata, dict):
        return "metadata must be a dict"
    if r.value_date is not None and not isinstance(r.value_date, dt.date):
        return "value_date must be a datetime.date"
    return None


def check_types(requests: list[Request]) -> None:
    """Raise TypeError for requests built wrongly: a programming error, not a business rejection."""
    for index, r in enumerate(requests):
        # The common request, checked in one expression; anything else gets the full check.
        if (
            type(r) is NewTransfer
            and type(r.id) is _UUID
            and type(r.amount) is int
            and type(r.debit_account_id) is int
            and type(r.credit_account_id) is int
            and type(r.code) is str
            and r.metadata is None
            and r.value_date is None
            and r.timeout_s is None
        ):
            continue
        problem = _type_error(r)
        if problem:
            raise TypeError(f"request {index}: {problem}")


# -- encodings shared by many rows -------------------------------------------------------------


class _Tails:
    """The variable ends of digest inputs and COPY rows, by code, for rows with no metadata
    and no references (nearly all). Bounded: codes come from callers."""

    LIMIT = 1024

    def __init__(self) -> None:
        self.by_code: dict[str, tuple[bytes, bytes]] = {}

    def get(self, code: str) -> tuple[bytes, bytes]:
        tails = self.by_code.get(code)
        if tails is None:
            if len(self.by_code) >= self.LIMIT:
                self.by_code.clear()
            tails = self.by_code[code] = (
                digest_tail(code, None, None, "{}"),
                _copy_tail(code, None, None, None, "{}"),
            )
        return tails


def _copy_tail(
    code: str,
    pending_id: uuid.UUID | None,
    reverses_id: uuid.UUID | None,
    timeout_s: int | None,
    meta_json: str,
) -> bytes:
    """The COPY fields after the digest: code, metadata (jsonb, version 1), pending_id, reverses_id, timeout_s."""
    code_bytes = code.encode()
    meta_bytes = meta_json.encode()
    return b"".join(
        (
            _COPY_LENGTH.pack(len(code_bytes)),
            code_bytes,
            _COPY_LENGTH.pack(len(meta_bytes) + 1),
            b"\x01",
            meta_bytes,
            _COPY_NULL if pending_id is None else _COPY_UUID.pack(16, pending_id.bytes),
            _COPY_NULL if reverses_id is None else _COPY_UUID.pack(16, reverses_id.bytes),
            _COPY_NULL if timeout_s is None else _COPY_INT4.pack(4, timeout_s),
        )
    )


_tails = _Tails()
_sha256 = hashlib.sha256

#: From this many requests on, the cyclic garbage collector waits while a batch builds its objects.
PAUSE_COLLECTOR_FROM = 256


@contextlib.contextmanager
def _collector_paused(size: int) -> Any:
    """Keep the cyclic garbage collector out of a burst of allocations of a large batch.

    A batch of thousands of requests allocates several objects per request (account states,
    rows, results) that live until it commits and form no cycles. With the collector on, a
    young-generation pass runs every 700 of them and rescans the same live objects, and the
    survivors pushed into the old generation soon force full passes over the whole process:
    a third of the Python time per transfer went there. Paused, the batch's objects are
    scanned once, at the next allocation after the burst. No ``await`` happens inside, so
    only this batch's work runs while it is paused.
    """
    if size < PAUSE_COLLECTOR_FROM or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# -- state of one batch ------------------------------------------------------------------------


class _Account:
    __slots__ = (
        "cp",
        "cpe",
        "credits_limit",
        "ctid",
        "debits_limit",
        "dp",
        "dpe",
        "flags",
        "id",
        "ledger_id",
        "serial",
        "touched",
        "updated_us",
    )

    def __init__(
        self,
        id: int,
        ctid: tuple[int, int] | None,
        ledger_id: int,
        flags: int,
        debits_limit: int | None,
        credits_limit: int | None,
        dp: int,
        cp: int,
        dpe: int,
        cpe: int,
    ) -> None:
        self.id = id
        self.ctid = ctid
        self.ledger_id = ledger_id
        self.flags = flags
        self.debits_limit = debits_limit
        self.credits_limit = credits_limit
        self.dp = dp
        self.cp = cp
        self.dpe = dpe
        self.cpe = cpe
        self.touched = False
        #: Speculation only: the attempt that published this state, and the account's last
        #: recorded time in that state (microseconds since 1970).
        self.serial = 0
        self.updated_us = 0


class _Pending:
    """A pending transfer this batch may resolve."""

    __slots__ = (
        "amount",
        "code",
        "credit",
        "debit",
        "expires_us",
        "held_before",
        "id",
        "ledger_id",
        "open",
        "resolved_by",
    )

    def __init__(
        self,
        id: uuid.UUID,
        ledger_id: int,
        debit: int,
        credit: int,
        amount: int,
        code: str,
        expires_us: int | None,
        open: bool,
        resolved_by: tuple[uuid.UUID, int] | None,
    ) -> None:
        self.id = id
        self.ledger_id = ledger_id
        self.debit = debit
        self.credit = credit
        self.amount = amount
        self.code = code
        self.expires_us = expires_us
        self.open = open
        self.resolved_by = resolved_by
        #: Whether ledger_holds has a row for it (it was open before this batch).
        self.held_before = False


# A created transfer: one flat tuple (its sequence number is seq_base + its position).
(
    _ID,
    _LEDGER,
    _KIND,
    _DEBIT,
    _CREDIT,
    _AMOUNT,
    _CODE,
    _PENDING_ID,
    _REVERSES_ID,
    _TIMEOUT,
    _VALUE_DATE,
    _META_JSON,
    _META,
    _D1,
    _D2,
    _D3,
    _D4,
    _C1,
    _C2,
    _C3,
    _C4,
) = range(21)


@dataclass
class Outcome:
    results: list[TransferResult]
    batch: Applied

    @property
    def created(self) -> list[Transfer]:
        """Transfers created by this batch, in the order they were applied."""
        return self.batch.transfers()

    @property
    def created_count(self) -> int:
        return len(self.batch.rows)


class Applied:
    """One batch being applied: what it read, what it decided, what it wrote."""

    def __init__(
        self,
        requests: list[Request],
        catalog: Catalog,
        *,
        own_transaction: bool = False,
        speculation: Speculation | None = None,
        attempt: Attempt | None = None,
    ) -> None:
        self.requests = requests
        self.catalog = catalog
        #: Per request: None until decided, then (code, detail, ref); ``_OK`` for created transfers.
        self.results: list[Any] = [None] * len(requests)
        #: Canonical metadata JSON of the requests that carry metadata, by position.
        self.meta_json: dict[int, str] = {}
        #: Stored transfers this batch names, by ``id.int`` (int keys hash in C; UUIDs hash in Python).
        self.existing: dict[int, Any] = {}
        self.accounts: dict[int, _Account] = {}
        self.pendings: dict[uuid.UUID, _Pending] = {}
        self.reversed: set[uuid.UUID] = set()
        self.rows: list[tuple[Any, ...]] = []
        #: Rows this batch writes, by ``id.int``.
        self.row_of: dict[int, int] = {}
        #: Per row: its digest (small batches) or its encoded COPY row (large ones).
        self.encoded: list[bytes] = []
        self.copy = len(requests) >= COPY_FROM
        #: The batch is the whole transaction: the commit empties the staging table.
        self.own_transaction = own_transaction
        self.journal: list[tuple[Any, ...]] | None = None
        self.now_us = 0
        self.business_date = dt.date.today()
        self.seq_base = 0
        self._made: list[Transfer | None] | None = None
        #: Accounts to lock, and the pending or original transfers referred to.
        self.account_ids: set[int] = set()
        self.refs: set[uuid.UUID] = set()
        #: Group commit only: what this process's batches know (``speculation.py``), and this attempt.
        self.speculation = speculation
        self.attempt = attempt
        #: Speculative only: the recorded time each account was assumed to have, and the attempts it came from.
        self.base: dict[int, int] | None = None
        self.depends: set[Any] = set()
        self._clock: Any = None
        self._read_states: dict[int, Any] = {}
        self._unread: list[int] = []
        #: The accounts' new totals, encoded for the staging COPY, and how many rows that is.
        self.staged = bytearray()
        self.staged_count = 0

    # -- reading ---------------------------------------------------------------------------

    async def read(self, conn: Any) -> None:
        """Read what the batch names, lock its accounts, then read the transfers it resolves or reverses."""
        await self._read_named(conn)
        await self._lock_and_read_references(conn)

    async def _read_named(self, conn: Any) -> None:
        """Check each request without the database, then read the transfers the batch names.

        Leaves the accounts to lock in ``account_ids`` and the referenced transfers in ``refs``.
        """
        requests = self.requests
        results = self.results
        meta_json = self.meta_json
        wanted: dict[int, uuid.UUID] = {}
        refs = self.refs
        for index, r in enumerate(requests):
            op = type(r)
            if (
                op is NewTransfer
                and not r.metadata
                and 0 < r.amount <= MAX_AMOUNT
                and r.debit_account_id != r.credit_account_id
                and r.timeout_s is None
                and r.value_date is None
                and r.code is not None
                and len(r.code) <= MAX_CODE_LENGTH
                and r.id.int
            ):
                wanted[r.id.int] = r.id  # the common request: nothing static_problem would object to
                continue
            code, detail = static_problem(r)
            if code is not None:
                results[index] = (code, detail, None)
                continue
            if detail != "{}":
                meta_json[index] = detail
            wanted[r.id.int] = r.id
            if op is Reversal:
                refs.add(r.original_id)
            elif op is not NewTransfer:
                refs.add(r.pending_id)
        if not wanted:
            return
        rows = await conn.fetch(
            _SELECT_TRANSFERS, [*wanted.values(), *(ref for ref in refs if ref.int not in wanted)]
        )
        existing = self.existing = {row["id"].int: row for row in rows}
        if rows:
            await self.catalog.ensure_ids(conn, {row["ledger_id"] for row in rows})

        account_ids = self.account_ids
        add = account_ids.add
        for index, r in enumerate(requests):
            if results[index] is not None or (existing and r.id.int in existing):
                continue
            if type(r) is NewTransfer:
                add(r.debit_account_id)
                add(r.credit_account_id)
            else:
                ref = existing.get((r.original_id if type(r) is Reversal else r.pending_id).int)
                if ref is not None:
                    add(ref["debit_account_id"])
                    add(ref["credit_account_id"])

    async def _lock_and_read_references(self, conn: Any) -> None:
        account_ids = self.account_ids
        if not account_ids:
            return
        speculation = self.speculation
        if speculation is not None:
            if self.attempt is not None:
                speculation.claim(self.attempt, account_ids, self.refs)
            else:  # an inline batch: its caller's transaction may still roll back
                speculation.forget(account_ids)
        if self.own_transaction and len(account_ids) >= INDEX_SCAN_FROM:
            await conn.execute(_PREFER_INDEX_SCAN)
        locked = await conn.fetch(_LOCK_ACCOUNTS, sorted(account_ids))
        header = locked.pop()
        if header[0] is not None:  # UNION ALL keeps its branches' order; never trust it blindly
            locked.append(header)
            header = next(row for row in locked if row[0] is None)
            locked.remove(header)
        if locked:
            accounts = self.accounts
            with _collector_paused(len(locked)):
                for row in locked:
                    accounts[row[0]] = _Account(*row)
            _, _, _, _, _, _, latest_us, clock_us, business_days, seq_base = header
            # recorded_at only grows per account: never before the last transfer of any account touched
            self.now_us = max(latest_us + 1, clock_us)
            self.business_date = dt.date.fromordinal(business_days + _UNIX_EPOCH_DAYS)
            self.seq_base = seq_base
            await self.catalog.ensure_ids(conn, {a.ledger_id for a in accounts.values()})
        # What a plain batch read of these before its locks may be stale: read it again.
        self.pendings.clear()
        self.reversed.clear()
        await self._read_references(conn)

    async def _read_references(self, conn: Any) -> None:
        """The holds, resolutions and reversals of the transfers the batch refers to."""
        refs = self.refs
        existing = self.existing
        if not refs:
            return
        pending_refs = [ref for ref in refs if ref.int in existing and existing[ref.int]["kind"] == _PENDING]
        reversal_refs = [ref for ref in refs if ref.int in existing and existing[ref.int]["kind"] != _PENDING]
        if pending_refs or reversal_refs:
            holds: dict[uuid.UUID, Any] = {}
            resolved: dict[uuid.UUID, tuple[uuid.UUID, int]] = {}
            for row in await conn.fetch(_REFERENCES_AFTER_LOCK, pending_refs, reversal_refs):
                what = row["what"]
                if what == "hold":
                    holds[row["ref"]] = row["expires_at"]
                elif what == "resolved":
                    resolved[row["ref"]] = (row["by"], row["kind"])
                else:
                    self.reversed.add(row["ref"])
            for ref in pending_refs:
                row = existing[ref.int]
                expires = holds.get(ref)
                pending = self.pendings[ref] = _Pending(
                    ref,
                    row["ledger_id"],
                    row["debit_account_id"],
                    row["credit_account_id"],
                    row["amount"],
                    row["code"],
                    (expires - EPOCH) // ONE_MICROSECOND if expires is not None else None,
                    ref in holds,
                    resolved.get(ref),
                )
                pending.held_before = ref in holds

    # -- the speculative path (speculation.py) ------------------------------------------------------

    async def read_ahead(self, conn: Any) -> bool:
        """Read what the batch names and the accounts no batch in flight will change, without locks.

        False when the batch should rather take its locks first (``speculate`` then decides
        for good, under no await, with what was published meanwhile).
        """
        await self._read_named(conn)
        account_ids = self.account_ids
        speculation = self.speculation
        assert speculation is not None
        if not account_ids or speculation.refers_to_running(self.refs):
            return False
        states = speculation.states
        # Accounts with no published state (or only a claim): read from the table.
        unread = [i for i in account_ids if type(states.get(i)) is not _Account]
        unread.sort()
        # For this read and the checked UPDATE at the end (SET LOCAL lasts until the commit):
        # look accounts up by primary key, never scan or hash all of them.
        await conn.execute(_PREFER_LOOKUPS)
        rows = await conn.fetch(_READ_AHEAD, unread)
        header = rows.pop()
        if header[0] is not None:
            rows.append(header)
            header = next(row for row in rows if row[0] is None)
            rows.remove(header)
        self._clock = header[6:9]
        read = self._read_states = {row[0]: tuple(row)[1:] for row in rows}
        self._unread = unread
        # Published states name ledgers this catalog knew already.
        await self.catalog.ensure_ids(conn, {state[0] for state in read.values()})
        # Read before the locks: a change by anyone else changes the accounts' recorded
        # times, which the check under the locks compares; batches of this process in
        # flight that refer to the same transfers make this batch go the plain way.
        await self._read_references(conn)
        return True

    def speculate(self) -> bool:
        """Take each account from the batches in flight or from what was read; False to go the plain way.

        An account a batch of this process published is taken over as it is: that batch
        has packed everything it still writes, and never reads it again. Synchronous: what
        it takes cannot change before ``publish``.
        """
        speculation = self.speculation
        assert speculation is not None
        if speculation.refers_to_running(self.refs):
            speculation.declined += 1
            return False
        states = speculation.states
        running = speculation.running
        read = self._read_states
        ledgers = self.catalog.by_id
        taken: list[_Account] = []
        depends: set[Any] = set()
        latest = 0
        unread = None
        for account_id in self.account_ids:
            entry = states.get(account_id)
            if type(entry) is _Account:
                row = read.get(account_id)
                if row is not None and row[8] > entry.updated_us:  # written by another process since
                    entry = _Account(account_id, None, *row[:8])
                    entry.updated_us = row[8]
                elif entry.serial in running:
                    depends.add(running[entry.serial])
            else:
                if entry is not None and entry in running:  # a plain batch holds it, not applied yet
                    speculation.declined += 1
                    return False
                row = read.get(account_id)
                if row is None:
                    if unread is None:
                        unread = set(self._unread)
                    if account_id in unread:
                        continue  # no such account
                    speculation.declined += 1  # published when read, withdrawn since
                    return False
                entry = _Account(account_id, None, *row[:8])
                entry.updated_us = row[8]
            if entry.ledger_id not in ledgers:
                speculation.declined += 1
                return False
            taken.append(entry)
            if entry.updated_us > latest:
                latest = entry.updated_us
        accounts = self.accounts
        base = self.base = {}
        for a in taken:
            a.touched = False
            accounts[a.id] = a
            base[a.id] = a.updated_us
        clock_us, business_days, seq_base = self._clock
        self.now_us = max(latest + 1, clock_us)
        self.business_date = dt.date.fromordinal(business_days + _UNIX_EPOCH_DAYS)
        self.seq_base = seq_base
        self.depends = depends
        return True

    def publish(self) -> None:
        """Tell the next batch where this one leaves its accounts (right after applying, under no await).

        Everything this batch still writes of its accounts must be packed before: the next
        batch takes the published objects over.
        """
        speculation, attempt = self.speculation, self.attempt
        if speculation is None or attempt is None:
            return
        states = speculation.states
        serial = attempt.serial
        now = self.now_us
        speculative = self.base is not None
        untouched: list[int] = []
        for a in self.accounts.values():
            if a.touched:
                a.updated_us = now
            elif not speculative:  # locked, unchanged, its recorded time unread: the table stays right
                untouched.append(a.id)
                continue
            a.serial = serial
            states[a.id] = a
        speculation.hold_refs(attempt, self.refs)
        if untouched:
            speculation.withdraw(attempt, untouched)

    def pack_staging(self) -> None:
        """Encode the accounts' new totals for the staging COPY, before ``publish`` hands them on."""
        base = self.base
        if base is None and not (self.copy and self.rows):
            return
        accounts = self.accounts
        data = bytearray(_COPY_HEADER)
        if base is not None:
            pack = _STAGE_CHECKED_ROW.pack
            for account_id in sorted(base):  # the order the UPDATE locks them in
                a = accounts[account_id]
                data += pack(
                    7, 8, a.id, 8, a.dp, 8, a.cp, 8, a.dpe, 8, a.cpe, 8, base[account_id], 1, a.touched
                )
            self.staged_count = len(base)
        else:
            pack = _STAGE_ACCOUNT_ROW.pack
            count = 0
            for a in accounts.values():
                if a.touched:
                    block, offset = a.ctid
                    data += pack(6, 6, block, offset, 8, a.id, 8, a.dp, 8, a.cp, 8, a.dpe, 8, a.cpe)
                    count += 1
            self.staged_count = count
        data += _COPY_TRAILER
        self.staged = data

    async def write_checked(self, conn: Any) -> None:
        """Update the accounts if each is still as assumed, and the holds; raises ``Missed`` otherwise."""
        speculation = self.speculation
        assert speculation is not None and self.base is not None
        await speculation.wait_for(self.depends)
        hold_gone, holds = self._holds()
        updated, held, released, business_days = await conn.fetchrow(
            _WRITE_CHECKED, hold_gone, EPOCH + self.now_us * ONE_MICROSECOND, *holds
        )
        if updated != len(self.base) or business_days + _UNIX_EPOCH_DAYS != self.business_date.toordinal():
            # What the states really are is read by the plain attempt that follows.
            speculation.forget(self.base)
            speculation.outcome(hit=False)
            raise Missed(
                f"{len(self.base) - updated} of {len(self.base)} accounts changed after the batch read them"
            )
        if released != len(hold_gone) or held != len(holds[0]):
            raise Conflict("another transaction resolved a pending transfer of this batch first")
        speculation.outcome(hit=True)

    # -- applying ------------------------------------------------------------------------------

    def apply(self) -> None:
        requests = self.requests
        results = self.results
        n = len(requests)
        start = 0
        while start < n:
            if not requests[start].linked:  # the common case: a request on its own
                if results[start] is None:
                    results[start] = self._apply_one(start)
                start += 1
                continue
            end = start
            while end < n and requests[end].linked:
                end += 1
            if end == n:  # the last request says "linked": the chain never closes
                for index in range(start, n):
                    if index == n - 1:
                        results[index] = (
                            R.LINKED_EVENT_CHAIN_OPEN,
                            "the last request of a batch must not be linked",
                            None,
                        )
                    else:
                        results[index] = (R.LINKED_EVENT_FAILED, "its linked chain is open", None)
                break
            self._apply_chain(start, end)
            start = end + 1

    def _apply_chain(self, start: int, end: int) -> None:
        rows_mark = len(self.rows)
        self.journal = []
        failed: int | None = None
        for index in range(start, end + 1):
            outcome = self.results[index] or self._apply_one(index)
            self.results[index] = outcome
            if outcome[0] is not R.OK and outcome[0] is not R.EXISTS:
                failed = index
                break
        codes = {self.results[i][0] for i in range(start, end + 1) if self.results[i] is not None}
        partly_exists = failed is None and R.OK in codes and R.EXISTS in codes
        if failed is not None or partly_exists:
            self._undo(rows_mark)
            reason = (
                f"request {failed - start} of its linked chain failed ({self.results[failed][0].value})"
                if failed is not None
                else "part of its linked chain exists already; a chain is all or nothing"
            )
            for index in range(start, end + 1):
                outcome = self.results[index]
                if index == failed:
                    continue
                # Keep "exists" of a stored transfer (it is true); everything else in the chain
                # failed with it, including an "exists" of a transfer the chain itself just undid.
                still_exists = (
                    outcome is not None
                    and outcome[0] is R.EXISTS
                    and not (outcome[2][0] == "row" and outcome[2][1].int not in self.row_of)
                )
                if not still_exists:
                    self.results[index] = (R.LINKED_EVENT_FAILED, reason, None)
        self.journal = None

    def _undo(self, rows_mark: int) -> None:
        assert self.journal is not None
        for entry in reversed(self.journal):
            tag = entry[0]
            if tag == "account":
                _, account, dp, cp, dpe, cpe, touched = entry
                account.dp, account.cp, account.dpe, account.cpe, account.touched = dp, cp, dpe, cpe, touched
            elif tag == "pending_new":
                del self.pendings[entry[1]]
            elif tag == "pending_resolved":
                _, pending, was_open, was_resolved_by = entry
                pending.open, pending.resolved_by = was_open, was_resolved_by
            elif tag == "reversed":
                self.reversed.discard(entry[1])
        for row in self.rows[rows_mark:]:
            del self.row_of[row[_ID].int]
        del self.rows[rows_mark:]
        del self.encoded[rows_mark:]

    def _touch(self, account: _Account) -> None:
        if self.journal is not None:
            self.journal.append(
                ("account", account, account.dp, account.cp, account.dpe, account.cpe, account.touched)
            )
        account.touched = True

    def _apply_one(self, index: int) -> tuple[ResultCode, str, Any]:
        r = self.requests[index]
        key = r.id.int
        known = self.row_of.get(key)
        if known is not None:
            return self._compare(index, self.rows[known], in_batch=True)
        if self.existing:
            stored = self.existing.get(key)
            if stored is not None:
                return self._compare(index, stored, in_batch=False)
        op = type(r)
        if op is NewTransfer:
            return self._new(index, r)
        if op is Reversal:
            return self._reverse(index, r)
        return self._resolve(index, r)

    def _account_problem(
        self, debit: _Account | None, credit: _Account | None, debit_id: int, credit_id: int
    ) -> tuple[ResultCode, str, Any] | None:
        if debit is None:
            return R.ACCOUNT_NOT_FOUND, f"debit account {debit_id} does not exist", None
        if credit is None:
            return R.ACCOUNT_NOT_FOUND, f"credit account {credit_id} does not exist", None
        if debit.ledger_id != credit.ledger_id:
            return (
                R.LEDGER_MISMATCH,
                f"account {debit_id} is on {self.catalog.by_id[debit.ledger_id].code}, "
                f"account {credit_id} on {self.catalog.by_id[credit.ledger_id].code}",
                None,
            )
        if debit.flags & _CLOSED:
            return R.ACCOUNT_CLOSED, f"debit account {debit_id} is closed", None
        if credit.flags & _CLOSED:
            return R.ACCOUNT_CLOSED, f"credit account {credit_id} is closed", None
        return None

    @staticmethod
    def _limit_problem(debit: _Account, credit: _Account, amount: int) -> tuple[ResultCode, str, Any] | None:
        # Pending debits count (Blnk #181): what is held cannot be spent twice.
        owed = debit.dp + debit.dpe + amount
        if debit.flags & _DMNEC and owed > debit.cp:
            return (
                R.EXCEEDS_CREDITS,
                f"account {debit.id} would have {owed - debit.cp} more debits than credits",
                None,
            )
        if debit.debits_limit is not None and owed - debit.cp > debit.debits_limit:
            return (
                R.EXCEEDS_CREDITS,
                f"account {debit.id} would go {owed - debit.cp - debit.debits_limit} "
                f"over its debit limit of {debit.debits_limit}",
                None,
            )
        owing = credit.cp + credit.cpe + amount
        if credit.flags & _CMNED and owing > credit.dp:
            return (
                R.EXCEEDS_DEBITS,
                f"account {credit.id} would have {owing - credit.dp} more credits than debits",
                None,
            )
        if credit.credits_limit is not None and owing - credit.dp > credit.credits_limit:
            return (
                R.EXCEEDS_DEBITS,
                f"account {credit.id} would go {owing - credit.dp - credit.credits_limit} "
                f"over its credit limit of {credit.credits_limit}",
                None,
            )
        if owed > MAX_AMOUNT or owing > MAX_AMOUNT:
            return R.OVERFLOW, "an account total would not fit in 64 bits", None
        return None

    def _new(self, index: int, r: NewTransfer) -> tuple[ResultCode, str, Any]:
        accounts = self.accounts
        debit = accounts.get(r.debit_account_id)
        credit = accounts.get(r.credit_account_id)
        if (
            debit is None
            or credit is None
            or debit.ledger_id != credit.ledger_id
            or (debit.flags | credit.flags) & _CLOSED
        ):
            problem = self._account_problem(debit, credit, r.debit_account_id, r.credit_account_id)
            assert problem is not None
            return problem
        if r.currency is not None and self.catalog.by_id[debit.ledger_id].code != r.currency:
            return (
                R.LEDGER_MISMATCH,
                f"the accounts are on {self.catalog.by_id[debit.ledger_id].code}, not {r.currency}",
                None,
            )
        amount = r.amount
        # The limits, checked in one go; _limit_problem says which one failed.
        owed = debit.dp + debit.dpe + amount
        owing = credit.cp + credit.cpe + amount
        if (
            (debit.flags & _DMNEC and owed > debit.cp)
            or (debit.debits_limit is not None and owed - debit.cp > debit.debits_limit)
            or (credit.flags & _CMNED and owing > credit.dp)
            or (credit.credits_limit is not None and owing - credit.dp > credit.credits_limit)
            or owed > MAX_AMOUNT
            or owing > MAX_AMOUNT
        ):
            problem = self._limit_problem(debit, credit, amount)
            assert problem is not None
            return problem
        if self.journal is not None:
            self._touch(debit)
            self._touch(credit)
        else:
            debit.touched = credit.touched = True
        if r.pending:
            debit.dpe += amount
            credit.cpe += amount
            kind = _PENDING
            expires = None if r.timeout_s is None else self.now_us + r.timeout_s * 1_000_000
            self.pendings[r.id] = _Pending(
                r.id, debit.ledger_id, debit.id, credit.id, amount, r.code, expires, True, None
            )
            if self.journal is not None:
                self.journal.append(("pending_new", r.id))
        else:
            debit.dp += amount
            credit.cp += amount
            kind = _POSTED
        self._add_row(index, r, debit.ledger_id, kind, debit, credit, amount, r.code, None, None, r.timeout_s)
        return _OK

    def _resolve(
        self, index: int, r: PostPending | VoidPending | ExpirePending
    ) -> tuple[ResultCode, str, Any]:
        pending = self.pendings.get(r.pending_id)
        if pending is None:
            stored = self.existing.get(r.pending_id.int)
            known = self.row_of.get(r.pending_id.int)
            if stored is not None or known is not None:
                return (
                    R.PENDING_TRANSFER_NOT_PENDING,
                    f"transfer {r.pending_id} is not a pending transfer",
                    None,
                )
            return R.PENDING_TRANSFER_NOT_FOUND, f"no pending transfer {r.pending_id}", None
        if not pending.open:
            if pending.resolved_by is not None:
                by, kind = pending.resolved_by
                return (
                    R.PENDING_ALREADY_RESOLVED,
                    f"pending transfer {pending.id} was already {_RESOLVED_AS[kind]} by transfer {by}",
                    None,
                )
            return R.PENDING_ALREADY_RESOLVED, f"pending transfer {pending.id} is no longer open", None
        debit = self.accounts.get(pending.debit)
        credit = self.accounts.get(pending.credit)
        if debit is None or credit is None:
            # Its accounts were not locked: it appeared after this batch read (a racing commit).
            raise Conflict(f"pending transfer {pending.id} appeared while the batch was applied")
        op = type(r)
        expired = pending.expires_us is not None and pending.expires_us <= self.now_us
        if op is ExpirePending:
            if not expired:
                return (
                    R.PENDING_TRANSFER_NOT_EXPIRED,
                    f"pending transfer {pending.id} has not timed out",
                    None,
                )
        elif expired:
            return R.PENDING_TRANSFER_EXPIRED, f"pending transfer {pending.id} timed out", None
        if op is PostPending:
            amount = pending.amount if r.amount is None else r.amount
            if amount > pending.amount:
                return (
                    R.EXCEEDS_PENDING_AMOUNT,
                    f"cannot post {amount}: pending transfer {pending.id} holds {pending.amount}",
                    None,
                )
            if debit.flags & _CLOSED or credit.flags & _CLOSED:
                closed = debit.id if debit.flags & _CLOSED else credit.id
                return R.ACCOUNT_CLOSED, f"account {closed} is closed", None
            if debit.dp + amount > MAX_AMOUNT or credit.cp + amount > MAX_AMOUNT:
                return R.OVERFLOW, "an account total would not fit in 64 bits", None
            kind = _POST
        else:
            amount = pending.amount
            kind = _VOID if op is VoidPending else _EXPIRE
        self._touch(debit)
        self._touch(credit)
        debit.dpe -= pending.amount
        credit.cpe -= pending.amount
        if kind == _POST:
            debit.dp += amount
            credit.cp += amount
        if self.journal is not None:
            self.journal.append(("pending_resolved", pending, pending.open, pending.resolved_by))
        pending.open = False
        pending.resolved_by = (r.id, kind)
        code = pending.code if r.code is None else r.code
        self._add_row(index, r, pending.ledger_id, kind, debit, credit, amount, code, pending.id, None, None)
        return _OK

    def _reverse(self, index: int, r: Reversal) -> tuple[ResultCode, str, Any]:
        known = self.row_of.get(r.original_id.int)
        if known is not None:
            row = self.rows[known]
            ledger_id, kind, debit_id, credit_id, original_amount, original_code, reverses = (
                row[_LEDGER],
                row[_KIND],
                row[_DEBIT],
                row[_CREDIT],
                row[_AMOUNT],
                row[_CODE],
                row[_REVERSES_ID],
            )
        else:
            stored = self.existing.get(r.original_id.int)
            if stored is None:
                return R.TRANSFER_NOT_FOUND, f"no transfer {r.original_id}", None
            ledger_id, kind, debit_id, credit_id, original_amount, original_code, reverses = (
                stored["ledger_id"],
                stored["kind"],
                stored["debit_account_id"],
                stored["credit_account_id"],
                stored["amount"],
                stored["code"],
                stored["reverses_id"],
            )
        if kind not in (_POSTED, _POST):
            return (
                R.TRANSFER_NOT_REVERSIBLE,
                f"transfer {r.original_id} is {TransferKind(kind).label}; void a pending transfer instead",
                None,
            )
        if reverses is not None:
            return R.TRANSFER_NOT_REVERSIBLE, f"transfer {r.original_id} is itself a reversal", None
        if r.original_id in self.reversed:
            return R.ALREADY_REVERSED, f"transfer {r.original_id} was already reversed", None
        amount = original_amount if r.amount is None else r.amount
        if amount > original_amount:
            return (
                R.EXCEEDS_ORIGINAL_AMOUNT,
                f"cannot reverse {amount}: transfer {r.original_id} moved {original_amount}",
                None,
            )
        # Money goes back: the original's credit account is debited.
        debit = self.accounts.get(credit_id)
        credit = self.accounts.get(debit_id)
        if debit is None or credit is None:
            raise Conflict(f"transfer {r.original_id} appeared while the batch was applied")
        problem = self._account_problem(debit, credit, credit_id, debit_id) or self._limit_problem(
            debit, credit, amount
        )
        if problem:
            return problem
        self._touch(debit)
        self._touch(credit)
        debit.dp += amount
        credit.cp += amount
        self.reversed.add(r.original_id)
        if self.journal is not None:
            self.journal.append(("reversed", r.original_id))
        code = original_code if r.code is None else r.code
        self._add_row(index, r, ledger_id, _POSTED, debit, credit, amount, code, None, r.original_id, None)
        return _OK

    def _add_row(
        self,
        index: int,
        r: Request,
        ledger_id: int,
        kind: int,
        debit: _Account,
        credit: _Account,
        amount: int,
        code: str,
        pending_id: uuid.UUID | None,
        reverses_id: uuid.UUID | None,
        timeout_s: int | None,
    ) -> None:
        """Record a created transfer, with its sequence number, running totals and digest."""
        rows = self.rows
        position = len(rows)
        id_ = r.id
        self.row_of[id_.int] = position
        meta_json = self.meta_json.get(index, "{}") if self.meta_json else "{}"
        value_date = r.value_date or self.business_date
        d1, d2, d3, d4 = debit.dp, debit.cp, debit.dpe, debit.cpe
        c1, c2, c3, c4 = credit.dp, credit.cp, credit.dpe, credit.cpe
        rows.append(
            (
                id_,
                ledger_id,
                kind,
                debit.id,
                credit.id,
                amount,
                code,
                pending_id,
                reverses_id,
                timeout_s,
                value_date,
                meta_json,
                r.metadata,
                d1,
                d2,
                d3,
                d4,
                c1,
                c2,
                c3,
                c4,
            )
        )
        seq = self.seq_base + position
        ordinal = value_date.toordinal()
        if pending_id is None and reverses_id is None and meta_json == "{}":
            digest_end, copy_end = _tails.get(code)
            if timeout_s is not None:
                copy_end = _copy_tail(code, None, None, timeout_s, meta_json)
        else:
            digest_end = digest_tail(code, pending_id, reverses_id, meta_json)
            copy_end = _copy_tail(code, pending_id, reverses_id, timeout_s, meta_json)
        id_bytes = id_.bytes
        digest = _sha256(
            FIXED.pack(
                VERSION,
                id_bytes,
                seq,
                ledger_id,
                kind,
                debit.id,
                credit.id,
                amount,
                -1 if timeout_s is None else timeout_s,
                ordinal,
                self.now_us,
                d1,
                d2,
                d3,
                d4,
                c1,
                c2,
                c3,
                c4,
            )
            + digest_end
        ).digest()
        if not self.copy:
            self.encoded.append(digest)
            return
        self.encoded.append(
            _COPY_ROW.pack(
                23,
                16,
                id_bytes,
                8,
                seq,
                4,
                ledger_id,
                2,
                kind,
                8,
                debit.id,
                8,
                credit.id,
                8,
                amount,
                4,
                ordinal - _PG_EPOCH_DAYS,
                8,
                self.now_us - _PG_EPOCH_US,
                8,
                d1,
                8,
                d2,
                8,
                d3,
                8,
                d4,
                8,
                c1,
                8,
                c2,
                8,
                c3,
                8,
                c4,
                32,
                digest,
            )
            + copy_end
        )

    # -- idempotency -------------------------------------------------------------------------------

    def _compare(self, index: int, stored: Any, *, in_batch: bool) -> tuple[ResultCode, str, Any]:
        """``exists`` when ``stored`` is what request ``index`` asks for, else which fields differ."""
        r = self.requests[index]
        if in_batch:
            (
                kind,
                debit,
                credit,
                amount,
                code,
                pending_id,
                reverses_id,
                timeout_s,
                value_date,
                meta_json,
                ledger_id,
            ) = (
                stored[_KIND],
                stored[_DEBIT],
                stored[_CREDIT],
                stored[_AMOUNT],
                stored[_CODE],
                stored[_PENDING_ID],
                stored[_REVERSES_ID],
                stored[_TIMEOUT],
                stored[_VALUE_DATE],
                stored[_META_JSON],
                stored[_LEDGER],
            )
            ref: Any = ("row", stored[_ID])
        else:
            kind, debit, credit, amount, code, pending_id, reverses_id, timeout_s, value_date, ledger_id = (
                stored["kind"],
                stored["debit_account_id"],
                stored["credit_account_id"],
                stored["amount"],
                stored["code"],
                stored["pending_id"],
                stored["reverses_id"],
                stored["timeout_s"],
                stored["value_date"],
                stored["ledger_id"],
            )
            meta_json = canonical_json(stored["metadata"])
            ref = ("stored", stored)
        differ: list[str] = []
        op = type(r)
        if op is NewTransfer:
            wanted_kind = _PENDING if r.pending else _POSTED
            if kind != wanted_kind or reverses_id is not None:
                differ.append("kind")
            if debit != r.debit_account_id:
                differ.append("debit_account_id")
            if credit != r.credit_account_id:
                differ.append("credit_account_id")
            if amount != r.amount:
                differ.append("amount")
            if code != r.code:
                differ.append("code")
            if timeout_s != r.timeout_s:
                differ.append("timeout_s")
            if r.currency is not None and self.catalog.by_id[ledger_id].code != r.currency:
                differ.append("currency")
        elif op is Reversal:
            if reverses_id != r.original_id:
                differ.append("original_id")
            if r.amount is not None and amount != r.amount:
                differ.append("amount")
            if r.code is not None and code != r.code:
                differ.append("code")
        else:
            if kind != r.op:
                differ.append("kind")
            if pending_id != r.pending_id:
                differ.append("pending_id")
            if op is PostPending and r.amount is not None and amount != r.amount:
                differ.append("amount")
            if r.code is not None and code != r.code:
                differ.append("code")
        if meta_json != self.meta_json.get(index, "{}"):
            differ.append("metadata")
        if r.value_date is not None and value_date != r.value_date:
            differ.append("value_date")
        if differ:
            return (
                R.EXISTS_WITH_DIFFERENT_FIELDS,
                f"transfer {r.id} exists with a different {', '.join(differ)}",
                ref,
            )
        return R.EXISTS, "", ref

    # -- writing -------------------------------------------------------------------------------------

    def _holds(self) -> tuple[list[uuid.UUID], list[list[Any]]]:
        """Holds this batch releases, and the columns of those it opens."""
        hold_new: list[_Pending] = []
        hold_gone: list[uuid.UUID] = []
        for pending in self.pendings.values():
            if pending.held_before:
                if not pending.open:
                    hold_gone.append(pending.id)
            elif pending.open:
                hold_new.append(pending)
        return hold_gone, [
            [p.id for p in hold_new],
            [p.ledger_id for p in hold_new],
            [p.debit for p in hold_new],
            [p.credit for p in hold_new],
            [p.amount for p in hold_new],
            [None if p.expires_us is None else EPOCH + p.expires_us * ONE_MICROSECOND for p in hold_new],
        ]

    async def write_ahead(self, conn: Any) -> None:
        """The speculative path, before the locks: COPY the transfers, and stage the accounts' new totals."""
        if len(self.rows) > MAX_BATCH:
            raise ValueError(f"a batch may create at most {MAX_BATCH} transfers")
        if self.rows and await self._copy_transfers(conn) != len(self.rows):
            raise Conflict("another transaction wrote some of these transfers first")
        await self._ensure_staging(conn)
        try:
            await conn.copy_to_table("ledger_stage_checked", source=self.staged, format="binary")
        except asyncpg.UndefinedTableError:
            _staged_sessions.discard(conn.get_server_pid())  # see _stage_accounts
            raise Conflict("the staging table was missing") from None

    async def write(self, conn: Any, *, transfers_written: bool = False) -> None:
        rows = self.rows
        if not rows:
            return
        if len(rows) > MAX_BATCH:
            raise ValueError(f"a batch may create at most {MAX_BATCH} transfers")
        hold_gone, holds = self._holds()
        recorded_at = EPOCH + self.now_us * ONE_MICROSECOND
        if self.copy:
            # Packed before publish(): the next batch may be changing these accounts already.
            touched_count = self.staged_count
            inserted = len(rows) if transfers_written else await self._copy_transfers(conn)
            await self._stage_accounts(conn, self.staged)
            counts = await conn.fetchrow(
                _WRITE_STAGED_OWN_TRANSACTION if self.own_transaction else _WRITE_STAGED,
                hold_gone,
                recorded_at,
                *holds,
            )
        else:
            touched = [a for a in self.accounts.values() if a.touched]  # before any await: see above
            touched_count = len(touched)
            # columns in the order of _WRITE_ARRAYS: the row's fields without the metadata object, then its digest
            columns = [
                list(column)
                for column in zip(
                    *[
                        (*row[:_META], *row[_D1:], self.encoded[position])
                        for position, row in enumerate(rows)
                    ],
                    strict=True,
                )
            ]
            columns.insert(1, list(range(self.seq_base, self.seq_base + len(rows))))
            account_columns = [
                list(column)
                for column in zip(*[(a.ctid, a.id, a.dp, a.cp, a.dpe, a.cpe) for a in touched], strict=True)
            ]
            counts = await conn.fetchrow(
                _WRITE_ARRAYS, *columns, hold_gone, recorded_at, *account_columns, *holds
            )
            inserted = counts["inserted"]
        if inserted != len(rows) or counts["released"] != len(hold_gone):
            raise Conflict("another transaction wrote some of these transfers first")
        if counts["updated"] != touched_count:
            raise RuntimeError(
                "ledger: an account locked by this batch vanished"
            )  # accounts are never deleted

    async def _copy_transfers(self, conn: Any) -> int:
        """COPY the encoded rows into ledger_transfers, in id order; returns how many were written."""
        encoded = sorted(self.encoded)  # by id: each row starts with the field count, then the id
        encoded.insert(0, _COPY_HEADER)
        encoded.append(_COPY_TRAILER)
        # A bytearray: asyncpg takes bytes for a path to a file.
        status = await conn.copy_to_table(
            "ledger_transfers", source=bytearray().join(encoded), columns=COPY_COLUMNS, format="binary"
        )
        return int(status.rpartition(" ")[2])

    @staticmethod
    async def _ensure_staging(conn: Any) -> None:
        pid = conn.get_server_pid()
        if pid not in _staged_sessions:
            await conn.execute(_STAGE_ACCOUNTS)
            _staged_sessions.add(pid)

    @staticmethod
    async def _stage_accounts(conn: Any, data: bytearray) -> None:
        await Applied._ensure_staging(conn)
        pid = conn.get_server_pid()
        try:
            await conn.copy_to_table("ledger_stage_accounts", source=data, format="binary")
        except asyncpg.UndefinedTableError:
            # A new session that reuses an old process id: create the table and apply again.
            _staged_sessions.discard(pid)
            raise Conflict("the staging table was missing") from None

    def transfer_at(self, row: int) -> Transfer:
        """The created transfer of a written row (built once, on demand)."""
        made = self._made
        if made is None:
            made = self._made = [None] * len(self.rows)
        transfer = made[row]
        if transfer is None:
            (
                id_,
                ledger_id,
                kind,
                debit,
                credit,
                amount,
                code,
                pending_id,
                reverses_id,
                timeout_s,
                value_date,
                _meta_json,
                meta,
                d1,
                d2,
                d3,
                d4,
                c1,
                c2,
                c3,
                c4,
            ) = self.rows[row]
            transfer = made[row] = Transfer(
                id_,
                self.seq_base + row,
                self.catalog.by_id[ledger_id].code,
                _KINDS[kind],
                debit,
                credit,
                amount,
                code,
                meta or {},
                value_date,
                EPOCH + self.now_us * ONE_MICROSECOND,
                pending_id,
                reverses_id,
                timeout_s,
                Totals(d1, d2, d3, d4),
                Totals(c1, c2, c3, c4),
            )
        return transfer

    def transfers(self) -> list[Transfer]:
        return [self.transfer_at(row) for row in range(len(self.rows))]

    def outcome(self) -> Outcome:
        """The results; built after the commit, so that the accounts are not kept locked meanwhile."""
        row_of = self.row_of
        ledgers = self.catalog.by_id
        ok = _OK
        result = TransferResult.made
        with _collector_paused(len(self.requests)):
            results = [
                result(r.id, R.OK, "", self, row_of[r.id.int])
                if outcome is ok
                else self._result(r, outcome, row_of, ledgers)
                for r, outcome in zip(self.requests, self.results, strict=True)
            ]
        return Outcome(results, self)

    def _result(
        self, r: Request, outcome: tuple[Any, ...], row_of: dict[int, int], ledgers: Any
    ) -> TransferResult:
        code, detail, ref = outcome
        if ref is None:
            return TransferResult(r.id, code, None, detail)
        if ref[0] == "row":
            return TransferResult.made(r.id, code, detail, self, row_of[ref[1].int])
        stored = ref[1]
        return TransferResult(
            r.id, code, transfer_from_row(stored, ledgers[stored["ledger_id"]].code), detail
        )


_RESOLVED_AS = {_POST: "posted", _VOID: "voided", _EXPIRE: "expired"}


async def apply_batch(
    conn: Any,
    requests: list[Request],
    catalog: Catalog,
    *,
    own_transaction: bool = False,
    speculation: Speculation | None = None,
    attempt: Attempt | None = None,
    speculate: bool = False,
) -> Applied:
    """Apply ``requests`` on ``conn``, which must be inside a transaction the caller commits or rolls back.

    ``own_transaction``: the caller's transaction holds nothing but this batch and commits
    right after it. ``speculation`` and ``attempt`` come from the group commit (an inline
    batch passes only ``speculation``, to say which accounts it writes); ``speculate`` lets a
    large batch in its own transaction be applied before its locks (``speculation.py``).
    Call ``.outcome()`` on the result once the transaction has committed. Raises one of
    :data:`RETRYABLE` when the caller should roll back and call again, and
    :class:`~core.ledger.speculation.Missed` when it should roll back and call again
    without ``speculate``.
    """
    batch = Applied(
        requests, catalog, own_transaction=own_transaction, speculation=speculation, attempt=attempt
    )
    if speculate and batch.copy and own_transaction and attempt is not None:
        if await batch.read_ahead(conn):
            with _collector_paused(len(requests)):
                speculating = batch.speculate()
                if speculating:
                    batch.apply()
                    batch.pack_staging()
                    batch.publish()
            if speculating:
                await batch.write_ahead(conn)
                await batch.write_checked(conn)
                return batch
        await batch._lock_and_read_references(conn)
    else:
        await batch.read(conn)
    with _collector_paused(len(requests)):
        batch.apply()
        batch.pack_staging()
        batch.publish()
    await batch.write(conn)
    return batch
