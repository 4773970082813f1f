"""One way to reach PostgreSQL for everything in the platform.

:class:`Database` owns an asyncpg pool. Code asks for ``db.transaction()`` (or
``db.connection()`` for reads) and gets the connection of the transaction it is
already in, if any: nested calls become savepoints, so a plugin can wrap its own
writes and a ledger transfer in one atomic unit without passing connections around.
Piccolo queries run through the same mechanism (see :mod:`core.db.engine`).

:class:`PinnedDatabase` serves every request from one connection inside a transaction
that the test rolls back: the transactional fixture of :mod:`core.testing`.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[Any]]


def _encode_json(value: Any) -> str:
    # Piccolo hands over JSON already serialised; our own code hands over objects.
    return value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))


async def init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=_encode_json, decoder=json.loads, schema="pg_catalog")


@dataclass
class _Scope:
    """The connection a task is using, and what to do once its transaction commits."""

    conn: asyncpg.Connection
    in_transaction: bool = False
    after_commit: list[AfterCommit] = field(default_factory=list)


class Database:
    """An asyncpg pool with context-aware connections and after-commit callbacks."""

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        statement_timeout_ms: int = 30_000,
        application_name: str | None = None,
    ) -> None:
        self.dsn = dsn
        self.min_size = min_size
        self.max_size = max_size
        self.server_settings = {
            # Names each process's sessions in pg_stat_activity (how pool sizes are checked).
            "application_name": application_name or f"kopilka:{os.getpid()}",
            "statement_timeout": str(statement_timeout_ms),
            # Array-parameter queries lose half their speed on generic plans (ledger.md §7).
            "plan_cache_mode": "force_custom_plan",
            # The working set lives in memory (or on SSD): the default of 4 makes the planner
            # scan whole tables rather than fetch a few thousand rows by index or tuple id.
            "random_page_cost": "1.1",
        }
        self._pool: asyncpg.Pool | None = None
        self._scope: contextvars.ContextVar[_Scope | None] = contextvars.ContextVar(f"db_scope_{id(self)}", default=None)

    # -- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self.min_size,
                max_size=self.max_size,
                init=init_connection,
                server_settings=self.server_settings,
            )

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def started(self) -> bool:
        return self._pool is not None

    async def connect_raw(self) -> asyncpg.Connection:
        """A dedicated connection outside the pool (LISTEN, advisory locks, COPY-heavy jobs)."""
        conn = await asyncpg.connect(self.dsn, server_settings=self.server_settings)
        await init_connection(conn)
        return conn

    # -- acquiring ----------------------------------------------------------

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise RuntimeError("database is not started")
        async with self._pool.acquire() as conn:
            yield conn

    @property
    def current(self) -> asyncpg.Connection | None:
        scope = self._scope.get()
        return scope.conn if scope else None

    @property
    def in_transaction(self) -> bool:
        scope = self._scope.get()
        return bool(scope and scope.in_transaction)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """The current task's connection, or one from the pool for the duration of the block."""
        scope = self._scope.get()
        if scope is not None:
            yield scope.conn
            return
        async with self._acquire() as conn:
            token = self._scope.set(_Scope(conn))
            try:
                yield conn
            finally:
                self._scope.reset(token)

    @asynccontextmanager
    async def transaction(self, isolation: str | None = None) -> AsyncIterator[asyncpg.Connection]:
        """A transaction; inside another one it is a savepoint of it.

        Callbacks registered with :meth:`after_commit` run once the outermost
        transaction has committed, and are dropped if it rolls back.
        """
        scope = self._scope.get()
        if scope is not None and scope.in_transaction:
            async with scope.conn.transaction():
                yield scope.conn
            return
        async with self.connection() as conn:
            scope = self._scope.get()
            assert scope is not None
            scope.in_transaction = True
            try:
                async with conn.transaction(isolation=isolation) if isolation else conn.transaction():
                    yield conn
            except BaseException:
                scope.after_commit.clear()
                raise
            finally:
                scope.in_transaction = False
            callbacks, scope.after_commit = scope.after_commit, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:  # a listener's failure must not undo or hide a committed write
                log.exception("after-commit callback failed")

    def after_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` after the current transaction commits (at once when there is none)."""
        scope = self._scope.get()
        if scope is not None and scope.in_transaction:
            scope.after_commit.append(callback)
        else:
            task = asyncio.ensure_future(callback())
            task.add_done_callback(_log_failure)

    # -- shortcuts ------------------------------------------------------------

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async with self.connection() as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with self.connection() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.connection() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.connection() as conn:
            return await conn.execute(query, *args)

    async def ping(self) -> bool:
        try:
            return await asyncio.wait_for(self.fetchval("SELECT 1"), timeout=2) == 1
        except Exception:
            return False


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("after-commit callback failed", exc_info=task.exception())


class PinnedDatabase(Database):
    """Every acquisition gets the same connection, inside a transaction the owner rolls back.

    Tasks take turns on the connection, so an app under test, its background work and
    the test itself all see each other's uncommitted writes and leave nothing behind.
    """

    def __init__(self, conn: asyncpg.Connection, dsn: str = "") -> None:
        super().__init__(dsn)
        self._conn = conn
        self._lock = asyncio.Lock()

    async def start(self) -> None:  # the owner manages the connection
        return None

    async def close(self) -> None:
        return None

    @property
    def started(self) -> bool:
        return True

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._lock:
            yield self._conn


_active: Database | None = None


def activate(db: Database | None) -> None:
    """Make ``db`` the database that piccolo tables use."""
    global _active
    _active = db


def active() -> Database:
    if _active is None:
        raise RuntimeError("no database is active: start a platform first")
    return _active
