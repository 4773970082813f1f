"""The in-process broker sends after commit on a connection of its own; a stopping worker finishes its tasks."""

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


async def test_a_stopping_worker_lets_running_tasks_finish(make_platform, committed_db):
    finished = []
    started = asyncio.Event()

    async def slow(platform):
        started.set()
        await asyncio.sleep(0.3)
        await platform.db.fetchval("SELECT 1")  # the database is still there
        finished.append(True)

    plugin = types.SimpleNamespace(register_tasks=hookimpl(lambda tasks: tasks.task(slow, name="probe.slow")))
    platform = await make_platform([], core={"jobs": {"broker": "postgres", "poll_interval_ms": 50}},
                                   extra_plugins={"probe": plugin}, database=committed_db)
    jobs = platform.service(Jobs)
    await jobs.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(jobs.run_worker(stop))
    await jobs.kick("probe.slow")
    await asyncio.wait_for(started.wait(), timeout=30)
    stop.set()
    await asyncio.wait_for(worker, timeout=30)
    assert finished == [True] and not jobs.running
    await jobs.stop()


async def test_worker_loops_run_with_the_worker_and_start_again_after_a_failure(make_platform, committed_db):
    runs = []
    stopped = asyncio.Event()

    async def watch(platform, stop):
        runs.append(len(runs))
        if len(runs) == 1:
            raise RuntimeError("the first run fails")
        await stop.wait()
        stopped.set()

    plugin = types.SimpleNamespace(register_tasks=hookimpl(lambda tasks: tasks.worker_loop(watch, name="probe.watch")))
    platform = await make_platform([], core={"jobs": {"broker": "postgres", "poll_interval_ms": 50}},
                                   extra_plugins={"probe": plugin}, database=committed_db)
    assert "probe.watch" in platform.plugins.plugins["probe"].tasks
    jobs = platform.service(Jobs)
    await jobs.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(jobs.run_worker(stop))
    for _ in range(300):
        if len(runs) == 2:
            break
        await asyncio.sleep(0.02)
    assert runs == [0, 1]  # started again about a second after it failed
    stop.set()
    await asyncio.wait_for(worker, timeout=30)
    assert stopped.is_set()
    await jobs.stop()
