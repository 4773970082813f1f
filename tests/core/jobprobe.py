"""A throwaway plugin for the job-delivery tests: tasks that record when they start and finish."""

import asyncio
import os

from litestar import post

from core import hookimpl
from core.jobs.runtime import Jobs

TABLE = """
CREATE TABLE IF NOT EXISTS probe_runs (
    id bigserial PRIMARY KEY, key text NOT NULL, event text NOT NULL, pid int NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


async def record(platform, key: str, first_run_sleep_s: float = 0.0) -> None:
    db = platform.db
    await db.execute("INSERT INTO probe_runs (key, event, pid) VALUES ($1, 'start', $2)", key, os.getpid())
    starts = await db.fetchval("SELECT count(*) FROM probe_runs WHERE key = $1 AND event = 'start'", key)
    if starts == 1 and first_run_sleep_s:
        await asyncio.sleep(first_run_sleep_s)
    await db.execute("INSERT INTO probe_runs (key, event, pid) VALUES ($1, 'finish', $2)", key, os.getpid())


async def tick(platform) -> None:
    await platform.db.execute("INSERT INTO probe_runs (key, event, pid) VALUES ('tick', 'finish', $1)", os.getpid())


@post("/api/v1/probe/kick", include_in_schema=False)
async def kick(request: object, data: dict) -> dict:
    jobs = request.app.state.platform.service(Jobs)  # type: ignore[attr-defined]
    for i in range(int(data["count"])):
        await jobs.kick("probe.record", key=f"{data['prefix']}-{i}")
    return {"kicked": int(data["count"])}


@hookimpl
def register_tasks(tasks):
    tasks.task(record, name="probe.record")
    tasks.task(tick, name="probe.tick", schedule=[{"interval": 1}])


@hookimpl
def routes():
    return [kick]
