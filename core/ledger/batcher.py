"""Group commit: requests from many coroutines share one database transaction.

Every caller outside a database transaction puts its requests on one queue and waits.
A few writer tasks (``writers``, 2 by default) each take everything queued, up to one
batch, and apply it in one transaction: the accounts are locked once per batch, so a hot
account costs one lock and one commit per batch instead of one per transfer. While one
writer waits for its commit, the next one reads and prepares its batch: two writers are
enough to keep the database busy.

A caller's future is resolved only after its batch has committed. A batch that fails for a
retryable reason (another process raced an id, a deadlock reported by PostgreSQL) is
applied again; a batch that fails for any other reason is split so that only the request
at fault fails, with an exception, and the others go through.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg

from core.ledger.apply import MAX_BATCH, RETRYABLE, Applied, apply_batch
from core.ledger.catalog import Catalog
from core.ledger.model import Request, Transfer, TransferResult
from core.ledger.speculation import Missed, Speculation

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Attempts for a batch that keeps hitting retryable conflicts or a lost connection.
MAX_ATTEMPTS = 8
_CONNECTION_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.ConnectionDoesNotExistError,
)


@dataclass
class _Job:
    requests: list[Request]
    future: asyncio.Future[list[TransferResult]]
    ids: set[Any] = field(default_factory=set)


async def run_with_retries(
    run: Callable[[], Awaitable[T]],
    *,
    attempts: int = MAX_ATTEMPTS,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Call ``run`` (one transaction) again after a retryable failure, with a short random pause."""
    for attempt in range(1, attempts + 1):
        try:
            return await run()
        except RETRYABLE as exc:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry()
            log.info("ledger batch retried after %s: %s", type(exc).__name__, exc)
        except _CONNECTION_ERRORS as exc:
            # Whether the commit happened is unknown; applying the batch again is safe:
            # what committed answers "exists".
            if attempt == attempts:
                raise
            log.warning("ledger batch retried after a connection error: %s", exc)
        await asyncio.sleep(random.uniform(0, 0.002 * attempt))
    raise AssertionError("unreachable")


class GroupCommit:
    def __init__(
        self,
        db: Any,
        catalog: Catalog,
        *,
        writers: int = 2,
        max_batch: int = MAX_BATCH,
        linger_s: float = 0.0,
        speculate: bool = True,
        on_commit: Callable[[list[Transfer]], None] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.writers = writers
        self.max_batch = min(max_batch, MAX_BATCH)
        self.linger_s = linger_s
        self.on_commit = on_commit
        #: Apply large batches before their locks, on top of the batch in flight (speculation.py).
        self.speculate = speculate
        self.speculation = Speculation()
        self._queue: deque[_Job] = deque()
        self._inflight: set[Any] = set()
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        #: Figures for benchmarks and health pages.
        self.batches = 0
        self.transfers = 0
        #: Seconds spent in batch transactions, summed over writers.
        self.transaction_s = 0.0
        #: Batches applied again after a conflict with another transaction.
        self.retries = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._stopping = False
        for index in range(self.writers):
            # A fresh context: the writers must not inherit the connection scope of whoever started them.
            task = asyncio.get_running_loop().create_task(
                self._writer(), name=f"ledger-writer-{index}", context=contextvars.Context()
            )
            self._tasks.append(task)

    async def stop(self) -> None:
        """Finish what is queued, then stop the writers."""
        self._stopping = True
        self._wakeup.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
        while self._queue:  # nobody left to write them
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(RuntimeError("the ledger stopped before this request was written"))

    # -- submitting ------------------------------------------------------------------------

    async def submit(self, requests: list[Request]) -> list[TransferResult]:
        if not self._tasks:
            self.start()
        if self._stopping:
            raise RuntimeError("the ledger is stopping")
        future: asyncio.Future[list[TransferResult]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(requests, future, {r.id for r in requests}))
        self._wakeup.set()
        return await future

    # -- writing -------------------------------------------------------------------------------

    def _take(self) -> list[_Job]:
        """Queued jobs up to one batch, leaving those that name an id another writer is writing."""
        taken: list[_Job] = []
        size = 0
        skipped: list[_Job] = []
        queue = self._queue
        while queue:
            job = queue[0]
            if taken and size + len(job.requests) > self.max_batch:
                break
            queue.popleft()
            if job.ids & self._inflight:
                skipped.append(job)  # a concurrent retry of an id in flight: after that batch commits
                continue
            taken.append(job)
            size += len(job.requests)
            self._inflight |= job.ids
        queue.extendleft(reversed(skipped))
        return taken

    async def _writer(self) -> None:
        while True:
            jobs = self._take()
            if not jobs:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if self.linger_s and len(jobs) == 1:
                await asyncio.sleep(self.linger_s)
                jobs += self._take()
            try:
                await self._write(jobs)
            finally:
                for job in jobs:
                    self._inflight -= job.ids
                self._wakeup.set()  # jobs skipped for an in-flight id may go now

    async def _write(self, jobs: list[_Job]) -> None:
        requests = [r for job in jobs for r in job.requests] if len(jobs) > 1 else jobs[0].requests
        try:
            outcome = (
                await run_with_retries(lambda: self._apply(requests), on_retry=self._retried)
            ).outcome()
        except Exception as exc:
            if len(jobs) > 1:
                # Find the request at fault: each job alone, so the others still commit.
                for job in jobs:
                    await self._write([job])
                return
            log.exception("ledger batch failed")
            if not jobs[0].future.done():
                jobs[0].future.set_exception(exc)
            return
        self.batches += 1
        self.transfers += outcome.created_count
        start = 0
        for job in jobs:
            end = start + len(job.requests)
            if not job.future.done():  # a caller may have been cancelled; its transfers stand
                job.future.set_result(outcome.results[start:end])
            start = end
        if outcome.created_count and self.on_commit is not None:
            self.on_commit(outcome.created)

    def _retried(self) -> None:
        self.retries += 1

    async def _apply(self, requests: list[Request]) -> Applied:
        """One batch: speculatively when it is large and the last ones did not miss, else lock first."""
        speculate = self.speculate and self.speculation.wanted()  # apply_batch: large batches only
        try:
            return await self._transaction(requests, speculate=speculate)
        except Missed:
            # Rolled back; the plain way cannot miss. Applied at once: nothing to wait for.
            return await self._transaction(requests, speculate=False)

    async def _transaction(self, requests: list[Request], *, speculate: bool) -> Applied:
        began = time.perf_counter()
        speculation = self.speculation
        attempt = speculation.begin()
        committed = False
        try:
            async with self.db.connection() as conn:
                # Alone in its own transaction, a batch leaves emptying its staging table to the
                # commit; on a connection already in a transaction (a test's pinned one) this is
                # a savepoint, and the batch must empty it itself (and cannot tell others what
                # it leaves in its accounts: the caller's transaction may still roll back).
                own_transaction = not conn.is_in_transaction()
                try:
                    async with self.db.transaction() as conn:
                        batch = await apply_batch(
                            conn,
                            requests,
                            self.catalog,
                            own_transaction=own_transaction,
                            speculation=speculation,
                            attempt=attempt if own_transaction else None,
                            speculate=speculate,
                        )
                    committed = True
                finally:
                    # At once, not after the connection went back to the pool (a round trip):
                    # the next batch waits for this to take its locks.
                    speculation.finish(attempt, committed=committed)
                return batch
        finally:
            if not attempt.done.is_set():  # the connection could not be had
                speculation.finish(attempt, committed=False)
            self.transaction_s += time.perf_counter() - began

    @property
    def queued(self) -> int:
        return sum(len(job.requests) for job in self._queue)
