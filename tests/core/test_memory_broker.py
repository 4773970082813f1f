"""The in-process broker sends a task only once the kicker commits, and never on the kicker's connection."""

import asyncio
import types

from core import hookimpl
from core.jobs.runtime import Jobs


async def test_memory_broker_runs_after_commit_on_its_own_connection(make_platform):
    ran = []

    async def probe(platform, tag):
        ran.append((tag, platform.db.current is None))

    plugin = types.SimpleNamespace(register_tasks=hookimpl(lambda tasks: tasks.task(probe, name="probe.run")))
    platform = await make_platform([], core={"jobs": {"broker": "memory"}}, extra_plugins={"probe": plugin})
    jobs = platform.service(Jobs)
    async with platform.db.transaction():
        await jobs.kick("probe.run", tag="committed")
        await asyncio.sleep(0.05)
        assert ran == []
    try:
        async with platform.db.transaction():
            await jobs.kick("probe.run", tag="rolled back")
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    for _ in range(50):
        if ran:
            break
        await asyncio.sleep(0.02)
    assert ran == [("committed", True)]
