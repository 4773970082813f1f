"""The ledger service: what plugins use (``platform.service(Ledger)``).

Writes go one of two ways, through the same apply function (:mod:`core.ledger.apply`):

* **inline**, when the caller already holds a database connection, typically inside
  ``platform.db.transaction()``: the transfers are applied in the caller's transaction
  (under a savepoint), so a plugin's own rows and the money commit or roll back together.
  The accounts stay locked until the caller commits: keep such transactions short.
* **group commit** otherwise: the request joins a batch with other coroutines' requests,
  one transaction per batch (:mod:`core.ledger.batcher`). This is the fast path.

Business rejections (no funds, unknown account, already resolved...) come back as result
codes, never as exceptions. Exceptions mean a programming error (a request built with the
wrong types) or a database that cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from core.ledger import chain, reading
from core.ledger.apply import MAX_BATCH, apply_batch, check_types
from core.ledger.batcher import GroupCommit, run_with_retries
from core.ledger.catalog import Catalog
from core.ledger.ids import transfer_id
from core.ledger.model import (
    Account,
    AccountBalance,
    AccountFlags,
    ExpirePending,
    LedgerInfo,
    NewTransfer,
    PostPending,
    Request,
    Reversal,
    StatementPage,
    Transfer,
    TransferResult,
    TrialBalance,
    VoidPending,
)
from core.ledger.settings import LedgerSettings
from core.ledger.verify import VerifyReport, verify

log = logging.getLogger(__name__)

OWNER = re.compile(r"^[a-z][a-z0-9_-]{0,39}(:[A-Za-z0-9_.@:/-]{1,160})?$")
PURPOSE = re.compile(r"^[a-z][a-z0-9_.:-]{0,99}$")
_UNSET: Any = object()

Publisher = Callable[[list[Transfer]], Awaitable[Any]]


def _check_owner_purpose(owner: str, purpose: str) -> None:
    if not isinstance(owner, str) or not OWNER.match(owner):
        raise ValueError(f"owner {owner!r} must look like 'platform', 'user:<uuid>' or 'stage:<uuid>'")
    if not isinstance(purpose, str) or not PURPOSE.match(purpose):
        raise ValueError(f"purpose {purpose!r} must be lower-case letters, digits and _.:- (up to 100)")


def _check_limit(name: str, value: Any) -> None:
    if value is not None and (
        not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63
    ):
        raise ValueError(f"{name} must be None or a non-negative int of minor units")


def _chunks(requests: list[Request], size: int) -> list[list[Request]]:
    """Split into lists of at most ``size`` requests, never inside a linked chain."""
    if len(requests) <= size:
        return [requests]
    chunks: list[list[Request]] = []
    current: list[Request] = []
    chain: list[Request] = []
    for index, r in enumerate(requests):
        chain.append(r)
        if r.linked and index < len(requests) - 1:
            continue
        if len(chain) > size:
            raise ValueError(f"a linked chain is longer than one batch ({size} requests)")
        if len(current) + len(chain) > size:
            chunks.append(current)
            current = []
        current += chain
        chain = []
    if current:
        chunks.append(current)
    return chunks


class Ledger:
    def __init__(
        self, db: Any, settings: LedgerSettings | None = None, *, publish: Publisher | None = None
    ) -> None:
        self.db = db
        self.settings = settings or LedgerSettings()
        self.catalog = Catalog(self.settings.assets)
        self._publish = publish
        self._published: asyncio.Queue[list[Transfer]] = asyncio.Queue()
        self._publisher: asyncio.Task[None] | None = None
        self.group_commit = GroupCommit(
            db,
            self.catalog,
            writers=self.settings.writers,
            max_batch=self.settings.batch_max,
            linger_s=self.settings.linger_ms / 1000,
            speculate=self.settings.speculate,
            on_commit=self._committed if publish else None,
        )

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        async with self.db.connection() as conn:
            await self.catalog.load(conn)
        self.group_commit.start()
        if self._publish and self._publisher is None:
            self._publisher = asyncio.get_running_loop().create_task(
                self._publish_loop(), name="ledger-publisher", context=contextvars.Context()
            )

    async def stop(self) -> None:
        await self.group_commit.stop()
        if self._publisher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._published.join(), timeout=10)
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
            self._publisher = None

    def _committed(self, transfers: list[Transfer]) -> None:
        self._published.put_nowait(transfers)

    async def _publish_loop(self) -> None:
        """Announce committed transfers in commit order, one batch at a time."""
        assert self._publish is not None
        while True:
            transfers = await self._published.get()
            try:
                await self._publish(transfers)
            except Exception:  # a listener's failure must not stop the announcements
                log.exception("on_transfers_committed listener failed")
            finally:
                self._published.task_done()

    # -- ledgers and accounts -----------------------------------------------------------------

    async def ensure_ledger(self, code: str, scale: int | None = None) -> LedgerInfo:
        """The ledger of a currency or asset, created on first use."""
        async with self.db.connection() as conn:
            return await self.catalog.ensure(conn, code, scale)

    async def ledgers(self) -> list[LedgerInfo]:
        async with self.db.connection() as conn:
            await self.catalog.load(conn)
        return sorted(self.catalog.by_id.values(), key=lambda info: info.code)

    async def open_account(
        self,
        *,
        owner: str,
        purpose: str,
        currency: str,
        flags: AccountFlags | int = AccountFlags.NONE,
        debits_limit: int | None = None,
        credits_limit: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Open the account of ``owner`` for ``purpose`` in ``currency``, or return the one already open.

        Idempotent on (currency, owner, purpose): a second call returns the existing account
        unchanged, whatever flags and limits it passes (change those with :meth:`set_limits`).
        """
        _check_owner_purpose(owner, purpose)
        flags = AccountFlags(flags)
        if AccountFlags.CLOSED in flags:
            raise ValueError("an account cannot be opened closed")
        both = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
        if flags & both == both:
            raise ValueError(
                "debits_must_not_exceed_credits and credits_must_not_exceed_debits exclude each other"
            )
        _check_limit("debits_limit", debits_limit)
        _check_limit("credits_limit", credits_limit)
        for attempt in range(2):
            try:
                async with self.db.transaction() as conn:
                    info = await self.catalog.ensure(conn, currency)
                    row = await conn.fetchrow(
                        "INSERT INTO ledger_accounts (ledger_id, owner, purpose, flags, debits_limit, credits_limit,"
                        " metadata) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)"
                        " ON CONFLICT (owner, purpose, ledger_id) DO NOTHING"
                        f" RETURNING {reading.ACCOUNT_COLUMNS}",
                        info.id,
                        owner,
                        purpose,
                        int(flags),
                        debits_limit,
                        credits_limit,
                        metadata or {},
                    )
                    if row is None:
                        row = await conn.fetchrow(
                            f"SELECT {reading.ACCOUNT_COLUMNS} FROM ledger_accounts"
                            " WHERE owner = $1 AND purpose = $2 AND ledger_id = $3",
                            owner,
                            purpose,
                            info.id,
                        )
                    return reading.account_from_row(row, self.catalog)
            except asyncpg.ForeignKeyViolationError:
                # The ledger row this process remembered was rolled back; forget it and retry.
                if attempt:
                    raise
                self.catalog.forget()
        raise AssertionError("unreachable")

    async def find_account(self, *, owner: str, purpose: str, currency: str) -> Account | None:
        async with self.db.connection() as conn:
            info = self.catalog.by_code.get(currency)
            if info is None:
                await self.catalog.load(conn)
                info = self.catalog.by_code.get(currency)
            if info is None:
                return None
            row = await conn.fetchrow(
                f"SELECT {reading.ACCOUNT_COLUMNS} FROM ledger_accounts"
                " WHERE owner = $1 AND purpose = $2 AND ledger_id = $3",
                owner,
                purpose,
                info.id,
            )
            return reading.account_from_row(row, self.catalog) if row else None

    async def get_account(self, account_id: int) -> Account | None:
        async with self.db.connection() as conn:
            return await reading.get_account(conn, self.catalog, account_id)

    async def accounts(
        self,
        *,
        owner: str | None = None,
        currency: str | None = None,
        purpose: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[Account]:
        """Accounts in id order, filtered; page with ``after_id`` = the last id seen."""
        async with self.db.connection() as conn:
            return await reading.list_accounts(
                conn,
                self.catalog,
                owner=owner,
                currency=currency,
                purpose=purpose,
                after_id=after_id,
                limit=limit,
            )

    async def _update_account(self, account_id: int, assignments: str, *args: Any) -> Account | None:
        # The row lock of the UPDATE waits for any batch using the account: limits and
        # flags change between batches, never during one.
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                # updated_at moves too: a speculative batch knows an account unchanged by it.
                f"UPDATE ledger_accounts SET {assignments},"
                " updated_at = greatest(updated_at + interval '1 microsecond', clock_timestamp())"
                f" WHERE id = $1 RETURNING {reading.ACCOUNT_COLUMNS}",
                account_id,
                *args,
            )
            self.group_commit.speculation.forget([account_id])
            return (await reading.accounts_from_rows(conn, [row], self.catalog))[0] if row else None

    async def set_limits(
        self, account_id: int, *, debits_limit: int | None = _UNSET, credits_limit: int | None = _UNSET
    ) -> Account | None:
        """Change an account's limits (None removes one); transfers already made stand."""
        account = await self.get_account(account_id)
        if account is None:
            return None
        if debits_limit is _UNSET:
            debits_limit = account.debits_limit
        if credits_limit is _UNSET:
            credits_limit = account.credits_limit
        _check_limit("debits_limit", debits_limit)
        _check_limit("credits_limit", credits_limit)
        return await self._update_account(
            account_id, "debits_limit = $2, credits_limit = $3", debits_limit, credits_limit
        )

    async def close_account(self, account_id: int) -> Account | None:
        """Refuse new transfers in and out; pending transfers can still be voided or expire."""
        return await self._update_account(account_id, "flags = flags | $2", int(AccountFlags.CLOSED))

    async def reopen_account(self, account_id: int) -> Account | None:
        return await self._update_account(account_id, "flags = flags & ~$2::int", int(AccountFlags.CLOSED))

    # -- balances ----------------------------------------------------------------------------------

    async def balance(self, account_id: int, *, at: dt.datetime | None = None) -> AccountBalance | None:
        """Balances now, or as they were at ``at`` (recorded time; exact, from running totals)."""
        async with self.db.connection() as conn:
            return await reading.balance(conn, self.catalog, account_id, at)

    async def posted_balance_on(self, account_id: int, value_date: dt.date) -> int:
        """Posted balance by value date (the business-date axis; backdated transfers count on their date)."""
        async with self.db.connection() as conn:
            return await reading.posted_balance_on(conn, account_id, value_date)

    async def owner_balances(self, owner: str) -> list[AccountBalance]:
        async with self.db.connection() as conn:
            return await reading.owner_balances(conn, self.catalog, owner)

    async def statement(
        self, account_id: int, *, before: str | None = None, limit: int = 50
    ) -> StatementPage:
        """Lines newest first, each with the running balance after it; ``before`` = a page's ``next_cursor``."""
        async with self.db.connection() as conn:
            return await reading.statement(conn, self.catalog, account_id, before=before, limit=limit)

    async def trial_balance(self, currency: str) -> TrialBalance | None:
        async with self.db.connection() as conn:
            return await reading.trial_balance(conn, self.catalog, currency)

    def trial_balance_csv(self, currency: str) -> AsyncIterator[str]:
        return reading.trial_balance_csv(self.db, self.catalog, currency)

    async def get_transfer(self, id: uuid.UUID) -> Transfer | None:
        async with self.db.connection() as conn:
            return await reading.get_transfer(conn, self.catalog, id)

    # -- writing -------------------------------------------------------------------------------------

    async def transfer(
        self,
        *,
        id: uuid.UUID,
        debit_account_id: int,
        credit_account_id: int,
        amount: int,
        code: str = "",
        metadata: dict[str, Any] | None = None,
        value_date: dt.date | None = None,
        currency: str | None = None,
        pending: bool = False,
        timeout_s: int | None = None,
    ) -> TransferResult:
        """Move (or, with ``pending``, hold) ``amount`` minor units from the debit to the credit account."""
        request = NewTransfer(
            id=id,
            debit_account_id=debit_account_id,
            credit_account_id=credit_account_id,
            amount=amount,
            code=code,
            metadata=metadata,
            value_date=value_date,
            currency=currency,
            pending=pending,
            timeout_s=timeout_s,
        )
        return (await self.submit([request]))[0]

    async def post_pending(
        self,
        *,
        id: uuid.UUID,
        pending_id: uuid.UUID,
        amount: int | None = None,
        code: str | None = None,
        metadata: dict[str, Any] | None = None,
        value_date: dt.date | None = None,
    ) -> TransferResult:
        request = PostPending(
            id=id, pending_id=pending_id, amount=amount, code=code, metadata=metadata, value_date=value_date
        )
        return (await self.submit([request]))[0]

    async def void_pending(
        self,
        *,
        id: uuid.UUID,
        pending_id: uuid.UUID,
        code: str | None = None,
        metadata: dict[str, Any] | None = None,
        value_date: dt.date | None = None,
    ) -> TransferResult:
        request = VoidPending(
            id=id, pending_id=pending_id, code=code, metadata=metadata, value_date=value_date
        )
        return (await self.submit([request]))[0]

    async def reverse(
        self,
        *,
        id: uuid.UUID,
        original_id: uuid.UUID,
        amount: int | None = None,
        code: str | None = None,
        metadata: dict[str, Any] | None = None,
        value_date: dt.date | None = None,
    ) -> TransferResult:
        """Send (part of) a posted transfer back; a transfer can be reversed once."""
        request = Reversal(
            id=id, original_id=original_id, amount=amount, code=code, metadata=metadata, value_date=value_date
        )
        return (await self.submit([request]))[0]

    async def submit(self, requests: Sequence[Request], *, atomic: bool = False) -> list[TransferResult]:
        """Apply requests in order; one result per request. ``atomic`` links them all into one chain."""
        requests = list(requests)
        if not requests:
            return []
        check_types(requests)
        if atomic:
            last = len(requests) - 1
            requests = [
                r if r.linked == (i < last) else dataclasses.replace(r, linked=i < last)
                for i, r in enumerate(requests)
            ]
        chunks = _chunks(requests, self.settings.batch_max)
        if self.db.current is not None:
            inline = [await self._submit_inline(chunk) for chunk in chunks]
            return [result for results in inline for result in results]
        if len(chunks) == 1:
            return await self.group_commit.submit(chunks[0])
        answers = await asyncio.gather(*(self.group_commit.submit(chunk) for chunk in chunks))
        return [result for results in answers for result in results]

    async def _submit_inline(self, requests: list[Request]) -> list[TransferResult]:
        async with self.db.connection() as conn:
            in_transaction = self.db.in_transaction

            async def once():
                async with conn.transaction():  # a savepoint in the caller's transaction, else our own
                    return await apply_batch(
                        conn, requests, self.catalog, speculation=self.group_commit.speculation
                    )

            outcome = (await run_with_retries(once)).outcome()
        if outcome.created_count and self._publish is not None:
            created = outcome.created
            if in_transaction:

                async def announce() -> None:
                    self._committed(created)

                self.db.after_commit(announce)
            else:
                self._committed(created)
        return outcome.results

    # -- integrity and housekeeping ------------------------------------------------------------------

    async def seal(self) -> list[chain.Block]:
        """Seal committed transfers into the hash chain (normally done by the ``ledger.seal`` task)."""
        return await chain.seal(self.db, block_max=self.settings.seal_block_max)

    async def verify(
        self, *, max_faults: int = 1, progress: Callable[[str], None] | None = None
    ) -> VerifyReport:
        return await verify(self.db, max_faults=max_faults, progress=progress)

    async def expire_pending(self, *, limit: int = 1000) -> int:
        """Expire pending transfers past their timeout; returns how many were expired now."""
        expired = 0
        while True:
            rows = await self.db.fetch(
                "SELECT pending_id FROM ledger_holds WHERE expires_at <= clock_timestamp()"
                " ORDER BY expires_at LIMIT $1",
                limit,
            )
            if not rows:
                return expired
            requests: list[Request] = [
                ExpirePending(
                    id=transfer_id("ledger", "expire", row["pending_id"]), pending_id=row["pending_id"]
                )
                for row in rows
            ]
            results = await self.submit(requests)
            expired += sum(1 for r in results if r.created)
            if len(rows) < limit or not any(r.created for r in results):
                return expired

    # -- figures ---------------------------------------------------------------------------------------

    @property
    def max_batch(self) -> int:
        return min(self.settings.batch_max, MAX_BATCH)
