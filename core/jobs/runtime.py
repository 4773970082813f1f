"""The jobs service: one broker per process, the worker loop and the single scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from taskiq import AsyncBroker, BrokerMessage, InMemoryBroker, TaskiqScheduler
from taskiq.api import run_receiver_task
from taskiq.cli.scheduler.run import SchedulerLoop
from taskiq.middlewares import SmartRetryMiddleware
from taskiq.schedule_sources import LabelScheduleSource

from core.jobs.broker import DurablePostgresBroker
from core.jobs.business_date import BusinessCalendar

if TYPE_CHECKING:
    from core.jobs.registry import TaskDefinition, WorkerLoop
    from core.platform import Platform

log = logging.getLogger(__name__)

SCHEDULER_LOCK = "kopilka.scheduler"


#: How long a stopping worker waits for the tasks it is running before the database closes.
STOP_GRACE_S = 20


def _bind(definition: TaskDefinition, platform: Platform, running: set[asyncio.Task[Any]]):
    async def run(**kwargs: Any) -> Any:
        task = asyncio.current_task()
        if task is not None:
            running.add(task)
        try:
            return await definition.fn(platform, **kwargs)
        finally:
            running.discard(task)  # type: ignore[arg-type]

    run.__name__ = definition.name.replace(".", "_")
    run.__doc__ = definition.fn.__doc__
    return run


class RecordingBroker(InMemoryBroker):
    """For tests: keeps kicked tasks until ``drain()`` runs them, in order.

    Like the PostgreSQL broker, a task kicked inside a database transaction is only
    queued once the transaction commits.
    """

    def __init__(self, database: Any) -> None:
        super().__init__(await_inplace=True)
        self.database = database
        self.queued: list[BrokerMessage] = []

    async def kick(self, message: BrokerMessage) -> None:
        if self.find_task(message.task_name) is None:
            raise LookupError(f"no task named {message.task_name!r}")

        async def enqueue() -> None:
            self.queued.append(message)

        if self.database.in_transaction:
            self.database.after_commit(enqueue)
        else:
            await enqueue()

    def kicked(self, name: str | None = None) -> list[BrokerMessage]:
        return [m for m in self.queued if name is None or m.task_name == name]

    async def drain(self) -> int:
        """Run every queued task (and any they queue); return how many ran."""
        ran = 0
        while self.queued:
            message = self.queued.pop(0)
            await self.receiver.callback(message=message.message)
            ran += 1
        return ran


class MemoryBroker(InMemoryBroker):
    """In-process tasks that behave like queued ones: sent after the kicker's transaction
    commits (dropped if it rolls back), and run in a context of their own, so a task never
    shares the kicker's database connection."""

    def __init__(self, database: Any) -> None:
        super().__init__()
        self.database = database

    async def kick(self, message: BrokerMessage) -> None:
        if self.find_task(message.task_name) is None:
            raise LookupError(f"no task named {message.task_name!r}")

        async def run() -> None:
            task = asyncio.create_task(self.receiver.callback(message=message.message), context=contextvars.Context())
            self._running_tasks.add(task)
            task.add_done_callback(self._running_tasks.discard)

        if self.database.in_transaction:
            self.database.after_commit(run)
        else:
            await run()


class Jobs:
    """Kicks tasks, runs workers and the scheduler, and closes business days."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.settings = platform.core.jobs
        self.broker: AsyncBroker = self._make_broker()
        self.tasks: dict[str, Any] = {}
        #: Tasks this process is running; a stopping worker lets them finish before the database closes.
        self.running: set[asyncio.Task[Any]] = set()
        for definition in platform.tasks:
            self.tasks[definition.name] = self.broker.register_task(
                _bind(definition, platform, self.running),
                task_name=definition.name,
                schedule=[self._with_timezone(s) for s in definition.schedule],
                retry_on_error=definition.labels.get("retry_on_error", True),
                **{k: v for k, v in definition.labels.items() if k != "retry_on_error"},
            )
        self.calendar = BusinessCalendar(platform.db)
        self._started = False

    def _with_timezone(self, schedule: dict[str, Any]) -> dict[str, Any]:
        if "cron" in schedule and "cron_offset" not in schedule:
            return {**schedule, "cron_offset": self.platform.core.platform.timezone}
        return schedule

    def _make_broker(self) -> AsyncBroker:
        url = self.settings.broker
        if url == "postgres":
            broker: AsyncBroker = DurablePostgresBroker(
                self.platform.db,
                visibility_timeout=self.settings.visibility_timeout_s,
                poll_interval=self.settings.poll_interval_ms / 1000,
            )
        elif url == "memory":
            broker = MemoryBroker(self.platform.db)
        elif url == "recording":
            broker = RecordingBroker(self.platform.db)
        else:  # redis://, or any scheme a distribution registers (core.jobs.brokers)
            from core.jobs.brokers import url_broker

            broker = url_broker(url, database=self.platform.db, settings=self.settings)
        return broker.with_middlewares(
            SmartRetryMiddleware(default_retry_count=5, default_delay=2, use_jitter=True, use_delay_exponent=True)
        )

    async def start(self) -> None:
        if not self._started:
            await self.broker.startup()
            self._started = True

    async def stop(self) -> None:
        if self._started:
            await self.broker.shutdown()
            self._started = False

    async def kick(self, name: str, /, *, delay_s: int | None = None, **kwargs: Any) -> str:
        """Queue task ``name``; inside a database transaction the task is queued only if it commits."""
        task = self.tasks.get(name)
        if task is None:
            raise LookupError(f"no task named {name!r}; registered: {', '.join(sorted(self.tasks))}")
        kicker = task.kicker()
        if delay_s:
            kicker = kicker.with_labels(delay=delay_s)
        sent = await kicker.kiq(**kwargs)
        return sent.task_id

    # -- roles ----------------------------------------------------------------

    async def run_worker(self, stop: asyncio.Event | None = None) -> None:
        """Execute tasks until ``stop`` is set (or forever)."""
        broker = self.broker
        broker.is_worker_process = True
        start_worker = getattr(broker, "start_worker", None)
        if start_worker is not None:
            await start_worker()
        receiver = asyncio.create_task(
            run_receiver_task(broker, max_async_tasks=self.settings.max_concurrency, run_startup=False),
            name="kopilka-worker",
        )
        loops_stop = asyncio.Event()
        loops = [
            asyncio.create_task(self._keep_running(loop, loops_stop), name=f"loop:{loop.name}",
                                context=contextvars.Context())
            for loop in self.platform.tasks.worker_loops()
        ]
        try:
            await _until(stop, receiver)
        finally:
            loops_stop.set()
            await self._finish_running()
            if loops:
                _done, late = await asyncio.wait(loops, timeout=STOP_GRACE_S)
                for task in late:
                    task.cancel()
                await asyncio.gather(*loops, return_exceptions=True)

    async def _keep_running(self, loop: WorkerLoop, stop: asyncio.Event) -> None:
        """Run a worker loop until ``stop``; start it again (after a growing pause) when it fails."""
        pause = 1.0
        while not stop.is_set():
            started = asyncio.get_running_loop().time()
            try:
                await loop.fn(self.platform, stop)
            except Exception:
                log.exception("worker loop %s failed; starting it again in %.0f s", loop.name, pause)
            if stop.is_set():
                return
            if asyncio.get_running_loop().time() - started > 60:
                pause = 1.0  # it ran for a while: a new failure is not the same one
            await _wait(stop, pause)
            pause = min(pause * 2, 60.0)

    async def _finish_running(self, grace_s: float = STOP_GRACE_S) -> None:
        """Let the tasks already running finish (they outlive the cancelled receiver), then cancel the rest.

        Without this a stopping process closed the database under its running tasks; a task
        cancelled here was not acknowledged and is delivered again after the visibility timeout.
        """
        if not self.running:
            return
        _done, late = await asyncio.wait(set(self.running), timeout=grace_s)
        for task in late:
            task.cancel()
        if late:
            log.warning("cancelled %d tasks still running after %s s; they will be delivered again", len(late),
                        grace_s)
            await asyncio.wait(late, timeout=5)

    async def run_scheduler(self, stop: asyncio.Event | None = None) -> None:
        """Send scheduled tasks, as the one scheduler of the deployment.

        Leadership is a PostgreSQL advisory lock held by a dedicated session: a second
        scheduler process waits, and takes over when the first one's session ends.
        """
        scheduler = TaskiqScheduler(self.broker, sources=[LabelScheduleSource(self.broker)])
        for source in scheduler.sources:
            await source.startup()
        db = self.platform.db
        while stop is None or not stop.is_set():
            conn = await db.connect_raw()
            try:
                leader = await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", SCHEDULER_LOCK)
                if not leader:
                    await _wait(stop, 5)
                    continue
                log.info("this process is the scheduler")
                loop = asyncio.create_task(SchedulerLoop(scheduler).run(update_interval=dt.timedelta(minutes=5)))
                try:
                    while not loop.done() and (stop is None or not stop.is_set()):
                        await _wait(stop, 5)
                        await conn.fetchval("SELECT 1")  # leadership ends with the session
                finally:
                    loop.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await loop
            except (TimeoutError, OSError) as exc:
                log.warning("scheduler lost its database session: %s", exc)
                await _wait(stop, 2)
            finally:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def close_day(self) -> dt.date:
        return await self.calendar.close_day(self.platform, self.platform.tasks.close_of_day_jobs())


async def _wait(stop: asyncio.Event | None, seconds: float) -> None:
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _until(stop: asyncio.Event | None, task: asyncio.Task[Any]) -> None:
    if stop is None:
        await task
        return
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        if pending not in done:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending
    if task in done and task.exception() is not None:
        raise task.exception()
