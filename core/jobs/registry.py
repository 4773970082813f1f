"""What plugins register as background work, independent of any broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

TaskFunction = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class TaskDefinition:
    """A named task. ``fn(platform, **kwargs)`` does the work."""

    name: str
    fn: TaskFunction
    plugin: str
    schedule: tuple[dict[str, Any], ...] = ()
    labels: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkerLoop:
    """Long-running work every worker process does beside its tasks: ``fn(platform, stop)``.

    It runs until ``stop`` (an ``asyncio.Event``) is set, and should return soon after; if it
    raises, the worker logs it and starts it again after a pause.
    """

    name: str
    fn: TaskFunction
    plugin: str


@dataclass(frozen=True)
class CloseOfDayJob:
    """Work that runs exactly once per business date: ``fn(platform, business_date)``."""

    name: str
    fn: TaskFunction
    plugin: str
    order: int = 100


class TaskRegistry:
    """Handed to the ``register_tasks`` hook."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskDefinition] = {}
        self._close_of_day: dict[str, CloseOfDayJob] = {}
        self._loops: dict[str, WorkerLoop] = {}
        self.current_plugin: str | None = None

    def _check_name(self, name: str) -> None:
        if not name or "." not in name:
            raise ValueError(f"task name {name!r} must be '<plugin>.<task>'")
        if name in self._tasks or name in self._close_of_day or name in self._loops:
            raise ValueError(f"task {name!r} is registered twice")

    def task(
        self,
        fn: TaskFunction,
        *,
        name: str,
        schedule: list[dict[str, Any]] | None = None,
        **labels: Any,
    ) -> TaskDefinition:
        """Register ``fn`` under ``name``; ``schedule`` takes taskiq label schedules (cron, interval, time)."""
        self._check_name(name)
        schedules = []
        for index, entry in enumerate(schedule or []):
            entry = dict(entry)
            # A stable id keeps one schedule one schedule across restarts and processes.
            entry.setdefault("schedule_id", name if index == 0 else f"{name}#{index}")
            schedules.append(entry)
        definition = TaskDefinition(name, fn, self.current_plugin or "?", tuple(schedules), labels)
        self._tasks[name] = definition
        return definition

    def close_of_day(self, fn: TaskFunction, *, name: str, order: int = 100) -> CloseOfDayJob:
        """Register ``fn(platform, business_date)`` to run once for each business date that closes."""
        self._check_name(name)
        job = CloseOfDayJob(name, fn, self.current_plugin or "?", order)
        self._close_of_day[name] = job
        return job

    def worker_loop(self, fn: TaskFunction, *, name: str) -> WorkerLoop:
        """Run ``fn(platform, stop)`` in every worker process for as long as the process runs.

        For work that holds something open (a serial line, a socket) rather than work that
        is queued. Several workers all run it: share the work out with leases in the database.
        """
        self._check_name(name)
        loop = WorkerLoop(name, fn, self.current_plugin or "?")
        self._loops[name] = loop
        return loop

    def worker_loops(self) -> list[WorkerLoop]:
        return list(self._loops.values())

    def __iter__(self) -> Iterator[TaskDefinition]:
        return iter(self._tasks.values())

    def __contains__(self, name: str) -> bool:
        return name in self._tasks

    def get(self, name: str) -> TaskDefinition:
        return self._tasks[name]

    def names(self) -> list[str]:
        return [*self._tasks, *self._close_of_day, *self._loops]

    def close_of_day_jobs(self) -> list[CloseOfDayJob]:
        return sorted(self._close_of_day.values(), key=lambda job: (job.order, job.name))
