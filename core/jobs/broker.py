"""The default task broker: taskiq-postgres, made durable.

taskiq-postgres delivers a task only through LISTEN/NOTIFY, which loses three kinds of
task (stack.md §3): one kicked while no worker listens, one claimed by a worker that
died, and one delayed by a kicker that exited. This subclass keeps its table and
notifications but claims work by polling too:

* a worker claims the oldest due message with ``FOR UPDATE SKIP LOCKED``, so several
  workers never take the same message;
* a claimed message whose worker stops renewing its claim for ``visibility_timeout``
  seconds is claimed again by someone else;
* a delay is a column (``available_at``), not a sleep in the kicker;
* a message that fails to finish ``max_attempts`` times is parked as ``dead``.

``kick`` writes through the platform database, inside the caller's transaction when
there is one: a task kicked by a request that rolls back is never run, and one kicked
by a request that commits is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import AsyncGenerator
from typing import Any

from taskiq import AckableMessage, BrokerMessage
from taskiq_pg.asyncpg import AsyncpgBroker

from core.db.database import Database

log = logging.getLogger(__name__)

TABLE = "taskiq_messages"
CHANNEL = "kopilka_tasks"

_INSERT = f"""
INSERT INTO {TABLE} (task_id, task_name, message, labels, available_at)
VALUES ($1, $2, $3, $4::jsonb, now() + make_interval(secs => $5))
RETURNING id
"""

_CLAIM = f"""
UPDATE {TABLE} AS m
SET status = 'processing', claimed_at = now(), claimed_by = $2, attempts = m.attempts + 1
WHERE m.id = (
    SELECT id FROM {TABLE}
    WHERE (status = 'pending' AND available_at <= now())
       OR (status = 'processing' AND claimed_at < now() - make_interval(secs => $1))
    ORDER BY id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING m.id, m.message, m.attempts, m.task_name
"""

_RENEW = f"UPDATE {TABLE} SET claimed_at = now() WHERE id = ANY($1::bigint[]) AND claimed_by = $2"
_ACK = f"DELETE FROM {TABLE} WHERE id = $1"
_BURY = f"UPDATE {TABLE} SET status = 'dead' WHERE id = $1"


class DurablePostgresBroker(AsyncpgBroker):
    def __init__(
        self,
        database: Database,
        *,
        visibility_timeout: int = 60,
        poll_interval: float = 1.0,
        max_attempts: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(dsn=database.dsn, channel_name=CHANNEL, table_name=TABLE, **kwargs)
        self.database = database
        self.visibility_timeout = visibility_timeout
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._in_flight: set[int] = set()
        self._wakeup = asyncio.Event()
        self._renewer: asyncio.Task[None] | None = None
        self._listen_conn: Any = None

    async def startup(self) -> None:
        # Skip AsyncpgBroker.startup: it opens its own pool and creates its own table;
        # ours is created by the core.jobs migrations and the pool is the platform's.
        await super(AsyncpgBroker, self).startup()

    async def start_worker(self) -> None:
        """Listen for notifications and keep this worker's claims alive."""
        if self._listen_conn is None:
            self._listen_conn = await self.database.connect_raw()
            await self._listen_conn.add_listener(self.channel_name, self._on_notify)
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_claims(), name="kopilka-broker-renew")

    async def shutdown(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        if self._listen_conn is not None:
            with contextlib.suppress(Exception):
                await self._listen_conn.close()
            self._listen_conn = None
        await super(AsyncpgBroker, self).shutdown()

    def _on_notify(self, *_: Any) -> None:
        self._wakeup.set()

    async def kick(self, message: BrokerMessage) -> None:
        delay = float(message.labels.get("delay") or 0)
        async with self.database.connection() as conn:
            message_id = await conn.fetchval(
                _INSERT,
                message.task_id,
                message.task_name,
                message.message.decode(),
                json.dumps(message.labels, default=str),
                delay,
            )
            if not delay:
                await conn.execute("SELECT pg_notify($1, $2)", self.channel_name, str(message_id))

    async def _claim(self) -> Any:
        async with self.database.connection() as conn:
            return await conn.fetchrow(_CLAIM, self.visibility_timeout, self.worker_id)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        while True:
            try:
                row = await self._claim()
            except Exception:  # the database may be restarting; keep the worker alive
                log.exception("claiming a task failed")
                await asyncio.sleep(self.poll_interval)
                continue
            if row is None:
                self._wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), timeout=self.poll_interval)
                continue
            message_id = row["id"]
            if row["attempts"] > self.max_attempts:
                log.error("task %s (%s) failed %s times; parked as dead", row["task_name"], message_id, self.max_attempts)
                await self.database.execute(_BURY, message_id)
                continue
            self._in_flight.add(message_id)
            yield AckableMessage(data=row["message"].encode(), ack=self._acker(message_id))

    def _acker(self, message_id: int):
        async def ack() -> None:
            try:
                await self.database.execute(_ACK, message_id)
            finally:
                self._in_flight.discard(message_id)

        return ack

    async def _renew_claims(self) -> None:
        """Keep claims of running tasks fresh so that only a dead worker's tasks are taken over."""
        interval = max(self.visibility_timeout / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            if not self._in_flight:
                continue
            try:
                await self.database.execute(_RENEW, list(self._in_flight), self.worker_id)
            except Exception:
                log.exception("renewing task claims failed")
