"""The Redis broker for larger deployments: taskiq-redis streams, made to redeliver.

taskiq-redis's ``RedisStreamBroker`` reclaims a dead consumer's messages only right after
it has fetched new ones, so an idle worker never takes over a crashed worker's task, and
its reclaim lock never expires when the holder dies. It also lets a live worker's long
task be taken over once it runs longer than the idle timeout. This subclass reclaims on
every round, expires the lock, and keeps the claims of running tasks fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

log = logging.getLogger(__name__)


class DurableRedisBroker(RedisStreamBroker):
    def __init__(self, url: str, *, visibility_timeout: int, poll_interval: float = 1.0, **kwargs: Any) -> None:
        super().__init__(
            url,
            idle_timeout=visibility_timeout * 1000,
            xread_block=max(int(poll_interval * 1000), 50),
            unacknowledged_lock_timeout=visibility_timeout,
            **kwargs,
        )
        self.visibility_timeout = visibility_timeout
        self._in_flight: dict[str, str] = {}  # message id -> stream
        self._renewer: asyncio.Task[None] | None = None

    async def start_worker(self) -> None:
        if self._renewer is None:
            self._renewer = asyncio.create_task(self._renew_claims(), name="kopilka-redis-renew")

    async def shutdown(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
            self._renewer = None
        await super().shutdown()

    def _track(self, msg_id: Any, stream: Any, data: bytes) -> AckableMessage:
        key = msg_id.decode() if isinstance(msg_id, bytes) else str(msg_id)
        stream_name = stream.decode() if isinstance(stream, bytes) else str(stream)
        self._in_flight[key] = stream_name
        ack = self._ack_generator(id=key, queue_name=stream_name)

        async def ack_and_forget() -> None:
            try:
                await ack()
            finally:
                self._in_flight.pop(key, None)

        return AckableMessage(data=data, ack=ack_and_forget)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        streams = [self.queue_name, *self.additional_streams.keys()]
        async with Redis(connection_pool=self.connection_pool) as redis:
            while True:
                fetched = await redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">", **self.additional_streams},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or []:
                    for msg_id, msg in messages:
                        yield self._track(msg_id, stream, msg[b"data"])
                for stream in streams:
                    lock = redis.lock(f"autoclaim:{self.consumer_group_name}:{stream}",
                                      timeout=self.unacknowledged_lock_timeout)
                    if not await lock.acquire(blocking=False):
                        continue
                    try:
                        _next, claimed, *_ = await redis.xautoclaim(
                            name=stream,
                            groupname=self.consumer_group_name,
                            consumername=self.consumer_name,
                            min_idle_time=self.idle_timeout,
                            count=self.unacknowledged_batch_size,
                        )
                    finally:
                        with contextlib.suppress(Exception):
                            await lock.release()
                    for msg_id, msg in claimed:
                        if msg:  # deleted entries come back empty
                            yield self._track(msg_id, stream, msg[b"data"])

    async def _renew_claims(self) -> None:
        """Reset the idle time of running tasks so only a dead worker's tasks are reclaimed."""
        interval = max(self.visibility_timeout / 3, 0.5)
        while True:
            await asyncio.sleep(interval)
            if not self._in_flight:
                continue
            try:
                async with Redis(connection_pool=self.connection_pool) as redis:
                    by_stream: dict[str, list[str]] = {}
                    for msg_id, stream in list(self._in_flight.items()):
                        by_stream.setdefault(stream, []).append(msg_id)
                    for stream, ids in by_stream.items():
                        await redis.xclaim(stream, self.consumer_group_name, self.consumer_name,
                                           min_idle_time=0, message_ids=ids, justid=True)
            except Exception:
                log.exception("renewing task claims failed")
