"""A piccolo engine that runs every query through the active :class:`~core.db.Database`.

Piccolo tables stay plain (``class Thing(Table)``); their queries use the connection of
the transaction the caller is in, or the pool. One set of pool settings serves
asyncpg and piccolo alike, and test isolation covers both.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from core.db import database


class _Transaction:
    """What piccolo's ``engine.transaction()`` returns, backed by ours."""

    def __init__(self) -> None:
        self._cm: Any = None
        self.connection: Any = None

    async def __aenter__(self) -> _Transaction:
        self._cm = database.active().transaction()
        self.connection = await self._cm.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._cm.__aexit__(*exc)


class KopilkaEngine(PostgresEngine):
    def __init__(self) -> None:
        super().__init__(config={}, extensions=(), log_queries=False)

    async def get_version(self) -> float:
        return 16.0

    def get_version_sync(self) -> float:
        return 16.0

    async def prep_database(self) -> None:
        return None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        return None

    async def close_connection_pool(self) -> None:
        return None

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        query, args = querystring.compile_string(engine_type=self.engine_type)
        async with database.active().connection() as conn:
            return await conn.fetch(query, *args)

    async def run_ddl(self, ddl: str, in_pool: bool = True) -> Any:
        async with database.active().connection() as conn:
            return await conn.fetch(ddl)

    def transaction(self, allow_nested: bool = True) -> Any:
        return _Transaction()

    @asynccontextmanager
    async def _noop(self):  # pragma: no cover - kept for piccolo's atomic() users
        yield
