"""Jobs: the business date, and task delivery through the PostgreSQL broker end to end.

The broker tests run real `kopilka worker` processes against a database of their own and
show the three traps of LISTEN/NOTIFY brokers handled: a task kicked while no worker listens,
a task whose worker died, and connection pools that stay small.
"""

import asyncio
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from core import hookimpl
from core.errors import ConfigError
from core.jobs.runtime import Jobs
from core.platform import Platform
from core.testing import free_port, require, wait_for_http
from tests.core import jobprobe

ROOT = Path(__file__).parents[2]


# -- business date ----------------------------------------------------------------------------


async def test_close_of_day_runs_each_job_once_per_business_date(make_platform):
    runs = []

    async def accrue(platform, business_date):
        runs.append(business_date)

    plugin = types.ModuleType("accrual")
    plugin.register_tasks = hookimpl(lambda tasks: tasks.close_of_day(accrue, name="accrual.daily"))
    platform = await make_platform([], extra_plugins={"accrual": plugin})
    jobs = platform.service(Jobs)
    await jobs.calendar.set(dt.date(2026, 1, 30))

    closed = await jobs.close_day()
    assert closed == dt.date(2026, 1, 30) and runs == [dt.date(2026, 1, 30)]
    assert await jobs.calendar.today() == dt.date(2026, 1, 31)

    # Retrying the same date (a crashed close of day re-run by hand) does not run the job again.
    assert not await jobs.calendar.run_once("accrual.daily", dt.date(2026, 1, 30), accrue, platform, None)
    await jobs.close_day()
    assert runs == [dt.date(2026, 1, 30), dt.date(2026, 1, 31)]


async def test_a_failing_job_is_not_marked_as_run(make_platform):
    attempts = []

    async def flaky(platform, business_date):
        attempts.append(business_date)
        if len(attempts) == 1:
            raise RuntimeError("bank file not there yet")

    plugin = types.ModuleType("flaky")
    plugin.register_tasks = hookimpl(lambda tasks: tasks.close_of_day(flaky, name="flaky.daily"))
    platform = await make_platform([], extra_plugins={"flaky": plugin})
    jobs = platform.service(Jobs)
    with pytest.raises(RuntimeError):
        await jobs.close_day()
    today = await jobs.calendar.today()
    assert not await jobs.calendar.has_run("flaky.daily", today)
    await jobs.close_day()
    assert attempts == [today, today] and await jobs.calendar.today() == today + dt.timedelta(days=1)


def test_task_names_are_explicit():
    from core.jobs.registry import TaskRegistry

    registry = TaskRegistry()
    with pytest.raises(ValueError, match="must be '<plugin>.<task>'"):
        registry.task(jobprobe.tick, name="tick")
    registry.task(jobprobe.tick, name="probe.tick", schedule=[{"cron": "* * * * *"}, {"interval": 5}])
    assert [s["schedule_id"] for s in registry.get("probe.tick").schedule] == ["probe.tick", "probe.tick#1"]
    with pytest.raises(ValueError, match="registered twice"):
        registry.task(jobprobe.tick, name="probe.tick")


# -- the broker, end to end ----------------------------------------------------------------------


DEPLOYMENT = """
[platform]
name = "job probe"
plugins = ["probe"]
[platform.local_plugins]
probe = "tests.core.jobprobe"
[database]
pool_max = 4
[jobs]
broker = "postgres"
visibility_timeout_s = 3
poll_interval_ms = 200
[web]
secret_key = "the job probe's own secret"
"""


@pytest.fixture
def redis_url():
    """A throwaway redis-server on a free port."""
    require("redis-server", shutil.which("redis-server") is not None)
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(params=["postgres", "redis"])
def broker_url(request):
    return request.param if request.param == "postgres" else request.getfixturevalue("redis_url")


@pytest.fixture
async def probe_deployment(tmp_path, committed_db, request):
    await committed_db.execute(jobprobe.TABLE)
    url = request.getfixturevalue("broker_url") if "broker_url" in request.fixturenames else "postgres"
    path = tmp_path / "probe.toml"
    path.write_text(DEPLOYMENT.replace('broker = "postgres"', f'broker = "{url}"'))
    return path


@pytest.fixture
def spawn(probe_deployment, committed_db):
    processes: list[subprocess.Popen] = []
    env = {**os.environ, "DATABASE_URL": committed_db.dsn, "KOPILKA_LOG_LEVEL": "WARNING", "CI": ""}

    def start(*args: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "-d", str(probe_deployment), *args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def kicker(probe_deployment, committed_db):
    """A platform in the test process that only kicks tasks (no worker)."""
    platform = Platform.from_deployment(probe_deployment)
    await platform.start(committed_db)
    jobs = platform.service(Jobs)
    await jobs.start()
    yield jobs
    await jobs.stop()
    platform.started = False  # the database belongs to the fixture


async def wait_until(check, timeout=40.0, interval=0.2):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


async def events(db, key, event):
    return await db.fetchval("SELECT count(*) FROM probe_runs WHERE key = $1 AND event = $2", key, event)


@pytest.mark.slow
async def test_task_kicked_with_no_worker_runs_when_a_worker_starts(broker_url, kicker, spawn, committed_db):
    await kicker.kick("probe.record", key="early")
    await asyncio.sleep(0.5)
    assert await events(committed_db, "early", "finish") == 0  # nobody is listening yet
    spawn("worker")
    await wait_until(lambda: events(committed_db, "early", "finish"))


@pytest.mark.slow
async def test_task_of_a_killed_worker_is_redone_exactly_once(broker_url, kicker, spawn, committed_db):
    first = spawn("worker")
    await kicker.kick("probe.record", key="crash", first_run_sleep_s=60)
    await wait_until(lambda: events(committed_db, "crash", "start"))
    first.kill()  # kill -9 in the middle of the task
    first.wait(timeout=10)
    spawn("worker")
    await wait_until(lambda: events(committed_db, "crash", "finish"))
    await asyncio.sleep(4)  # longer than the visibility timeout: no third delivery
    assert await events(committed_db, "crash", "start") == 2
    assert await events(committed_db, "crash", "finish") == 1
    if broker_url == "postgres":
        assert await committed_db.fetchval("SELECT count(*) FROM taskiq_messages") == 0


@pytest.mark.slow
async def test_each_process_keeps_its_pool_small(kicker, spawn, committed_db):
    worker = spawn("worker")
    await kicker.kick("probe.record", key="pool")
    await wait_until(lambda: events(committed_db, "pool", "finish"))
    sessions = await committed_db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", f"kopilka:{worker.pid}"
    )
    # pool_max = 4, plus the LISTEN session; taskiq-postgres alone would open 21.
    assert 1 <= sessions <= 5
    # An idle worker on a LISTEN connection still stops promptly on SIGTERM (stack.md §3, trap 3).
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0, worker.stderr.read().decode()[-2000:]


@pytest.mark.slow
async def test_two_webs_two_workers_one_scheduler_run_1000_tasks_each_once(spawn, committed_db, probe_deployment):
    ports = [free_port(), free_port()]
    for port in ports:
        spawn("serve", "--port", str(port), "--no-worker", "--no-scheduler", "--no-migrate")
    spawn("worker")
    spawn("worker")
    spawn("scheduler")
    import httpx

    for port in ports:
        await wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
    async with httpx.AsyncClient(timeout=120) as http:
        responses = await asyncio.gather(
            *[http.post(f"http://127.0.0.1:{port}/api/v1/probe/kick", json={"prefix": f"web{port}", "count": 500})
              for port in ports]
        )
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]

    async def all_done():
        return await committed_db.fetchval(
            "SELECT count(*) FROM probe_runs WHERE event = 'finish' AND key LIKE 'web%'") >= 1000

    await wait_until(all_done, timeout=180, interval=0.5)
    await asyncio.sleep(1)
    duplicates = await committed_db.fetchval(
        "SELECT count(*) FROM (SELECT key FROM probe_runs WHERE key LIKE 'web%' GROUP BY key, event"
        " HAVING count(*) > 1) d")
    assert duplicates == 0
    assert await committed_db.fetchval(
        "SELECT count(DISTINCT key) FROM probe_runs WHERE key LIKE 'web%' AND event = 'finish'") == 1000
    workers = await committed_db.fetchval(
        "SELECT count(DISTINCT pid) FROM probe_runs WHERE key LIKE 'web%'")
    assert workers == 2, "both workers took a share"
    # The scheduler sent the interval task too.
    assert await committed_db.fetchval("SELECT count(*) FROM probe_runs WHERE key = 'tick'") >= 1


@pytest.mark.slow
async def test_only_one_scheduler_sends_even_when_two_run(spawn, committed_db):
    spawn("scheduler")
    spawn("scheduler")
    spawn("worker")

    async def ticking():
        return await committed_db.fetchval("SELECT count(*) FROM probe_runs WHERE key = 'tick'") >= 2

    await wait_until(ticking, timeout=60)
    first = await committed_db.fetchval("SELECT count(*) FROM probe_runs WHERE key = 'tick'")
    await asyncio.sleep(6)
    sent = await committed_db.fetchval("SELECT count(*) FROM probe_runs WHERE key = 'tick'") - first
    # One scheduler sends the 1-second interval task about 6 times; two would send about 12.
    assert 3 <= sent <= 8, sent


async def test_test_broker_queues_after_commit_and_drains(make_platform):
    ran = []

    async def remember(platform, value: int):
        ran.append(value)

    plugin = types.ModuleType("remember")
    plugin.register_tasks = hookimpl(lambda tasks: tasks.task(remember, name="remember.it"))
    platform = await make_platform([], extra_plugins={"remember": plugin})
    jobs = platform.service(Jobs)
    with pytest.raises(RuntimeError):
        async with platform.db.transaction():
            await jobs.kick("remember.it", value=1)
            raise RuntimeError("request failed")
    async with platform.db.transaction():
        await jobs.kick("remember.it", value=2)
        assert jobs.broker.kicked("remember.it") == []  # not before commit
    assert [m.task_name for m in jobs.broker.kicked()] == ["remember.it"]
    assert await jobs.broker.drain() == 1 and ran == [2]
    with pytest.raises(LookupError):
        await jobs.kick("remember.nothing")


async def test_another_taskiq_broker_is_chosen_by_its_url(make_platform, monkeypatch):
    """A distribution maps a URL scheme to a broker factory (entry-point group kopilka.brokers)."""
    from taskiq import InMemoryBroker

    from core.jobs import brokers

    made = []

    def make_broker(url, *, database, settings):
        made.append((url, settings.visibility_timeout_s, database))
        return InMemoryBroker()

    monkeypatch.setitem(brokers.URL_BROKERS, "amqp", make_broker)
    platform = await make_platform([], core={"jobs": {"broker": "amqp://guest@rabbit//", "visibility_timeout_s": 30}})
    assert isinstance(platform.service(Jobs).broker, InMemoryBroker)
    assert made == [("amqp://guest@rabbit//", 30, platform.db)]
    monkeypatch.delitem(brokers.URL_BROKERS, "amqp")
    with pytest.raises(ConfigError, match=r"key 'jobs.broker': .*redis://"):
        Platform.from_deployment("site.toml", text='[jobs]\nbroker = "amqp://guest@rabbit//"\n')
