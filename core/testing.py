"""The testing kit for kopilka and its plugins (a pytest plugin, loaded automatically).

Fixtures:

``pg_admin_dsn``
    One PostgreSQL per test session: ``KOPILKA_TEST_DATABASE_URL`` (a server URL whose
    user may create databases) or an embedded server in a temporary folder.
``db``
    A :class:`~core.db.PinnedDatabase` on the session's migrated database, inside a
    transaction rolled back after the test: tests see their own writes and leave none.
``make_platform``
    ``await make_platform(plugins=[...], settings={...}, extra_plugins={...})`` builds and
    starts a platform on the test's database; ``extra_plugins`` registers throwaway plugins.
``platform``
    A started platform with every installed plugin enabled, on ``db``.
``client``
    An ``httpx.AsyncClient`` talking to ``platform``'s web app in-process.
``client_as``
    ``await client_as("perm.a", "perm.b", user_id=...)``: a client already signed in with
    those permissions (``http.identity`` is its :class:`~core.access.Identity`).
``committed_db``
    A database of its own for tests that need real commits and several connections
    (concurrency, crash and broker tests); dropped afterwards. ``committed_db.dsn``.
``broker``
    The test broker: ``broker.kicked("plugin.task")`` lists what was queued (after commit, as
    in production); ``await broker.drain()`` runs it.
``jobs``
    The platform's :class:`~core.jobs.runtime.Jobs`; ``await jobs.run_now(name, **kwargs)``
    runs a task's function in the test.
``business_date``
    ``await business_date.set(date)`` moves the business date inside the test's transaction.

Helpers: ``async with live_server(platform) as base_url`` serves a platform over real HTTP
in the test's event loop (browsers, Schemathesis).

In CI (``CI=true``) a skipped test fails: a missing part (Chromium, a server) must not
pass silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from core.db.database import Database, PinnedDatabase, activate

TEMPLATE_DB = "kopilka_test_template"
SHARED_DB = "kopilka_test"


# -- CI: skips are failures ------------------------------------------------------------


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(part: str, available: bool) -> None:
    """Skip the test when ``part`` is missing, or fail it in CI."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{part} is missing; CI must provide it", pytrace=False)
    pytest.skip(f"{part} is missing")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Property tests without hypothesis's 200 ms deadline, unless ``--hypothesis-profile`` picks one.

    They check maths, not speed, and the suite shares two cores: under load an example that
    once took 250 ms failed the run as DeadlineExceeded or Flaky.
    """
    try:
        from hypothesis import settings
    except ImportError:  # pragma: no cover - hypothesis is a dev dependency
        return
    settings.register_profile("kopilka", deadline=None)
    if not config.getoption("--hypothesis-profile", default=None):
        settings.load_profile("kopilka")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI: {report.longrepr}"
    return report


# -- the server and the migrated template -----------------------------------------------


def _dsn_for(admin_dsn: str, database: str) -> str:
    """The same server, another database (keeps ``?host=/socket/dir`` for pgserver)."""
    url = httpx.URL(admin_dsn)
    return str(url.copy_with(path=f"/{database}"))


def all_plugin_names() -> list[str]:
    from core.plugins import available_plugins

    return sorted(available_plugins())


def deployment_text(plugins: list[str], settings: dict[str, dict[str, Any]] | None = None,
                    core: dict[str, dict[str, Any]] | None = None) -> str:
    """A deployment file for tests, as TOML text."""
    import json

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, int | str | float):
            return json.dumps(v) if not isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        return json.dumps(str(v))

    core = {"platform": {}, "jobs": {"broker": "recording"}, **(core or {})}
    lines = []
    for section, values in core.items():
        lines.append(f"[{section}]")
        if section == "platform":
            values = {"name": "Kopilka test", **values, "plugins": plugins}
        for k, v in values.items():
            lines.append(f"{k} = {value(v)}")
    for plugin, values in (settings or {}).items():
        lines.append(f'[plugins."{plugin}"]')
        for k, v in values.items():
            lines.append(f"{k} = {value(v)}")
    return "\n".join(lines) + "\n"


async def migrate_database(dsn: str, plugins: list[str]) -> None:
    from core.platform import Platform

    platform = Platform.from_deployment("test.toml", text=deployment_text(plugins))
    db = Database(dsn, min_size=1, max_size=2)
    await platform.start_database(db)
    try:
        await platform.migrate()
    finally:
        await db.close()
        activate(None)


async def create_database(admin_dsn: str, name: str, template: str | None = None) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
    finally:
        await conn.close()
    return _dsn_for(admin_dsn, name)


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = os.environ.get("KOPILKA_TEST_DATABASE_URL")
    if url:
        yield url
        return
    from core.db.embedded import embedded_server

    # A short path: the server's Unix socket lives in its data folder.
    base = Path(tempfile.mkdtemp(prefix="kpt-", dir="/tmp"))
    server = embedded_server(base / "pg", cleanup_mode="delete")
    yield server.get_uri("postgres")
    server.cleanup()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_dsn(pg_admin_dsn: str) -> str:
    """A database migrated with every installed plugin's apps; cloned for each use."""
    dsn = await create_database(pg_admin_dsn, TEMPLATE_DB)
    await migrate_database(dsn, all_plugin_names())
    return dsn


@pytest.fixture(scope="session")
async def shared_dsn(pg_admin_dsn: str, template_dsn: str) -> str:
    return await create_database(pg_admin_dsn, SHARED_DB, template=TEMPLATE_DB)


# -- per-test isolation ---------------------------------------------------------------------


@pytest.fixture
async def db(shared_dsn: str) -> AsyncIterator[PinnedDatabase]:
    from core.db.database import init_connection

    conn = await asyncpg.connect(shared_dsn, server_settings={"plan_cache_mode": "force_custom_plan"})
    await init_connection(conn)
    outer = conn.transaction()
    await outer.start()
    pinned = PinnedDatabase(conn, shared_dsn)
    activate(pinned)
    try:
        yield pinned
    finally:
        # Work the test left running (after-commit callbacks, deliveries) finishes its statement
        # first; and whatever happens, the connection goes, or its transaction would hold locks
        # that make the next test wait forever.
        try:
            async with pinned._lock:
                await outer.rollback()
                await conn.close()
        except Exception:
            conn.terminate()
            raise
        finally:
            activate(None)


@pytest.fixture
async def committed_db(pg_admin_dsn: str, template_dsn: str) -> AsyncIterator[Database]:
    name = f"kopilka_t_{uuid.uuid4().hex[:10]}"
    dsn = await create_database(pg_admin_dsn, name, template=TEMPLATE_DB)
    database = Database(dsn, min_size=1, max_size=10)
    await database.start()
    activate(database)
    try:
        yield database
    finally:
        await database.close()
        activate(None)
        await drop_database(pg_admin_dsn, name)


PlatformFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def make_platform(db: PinnedDatabase, tmp_path: Path) -> AsyncIterator[PlatformFactory]:
    """Build and start platforms on the test's database (``db`` unless ``database=`` is given).

    Unless ``core`` sets one, the data folder (uploads, generated files) is the test's ``tmp_path``.
    """
    from core.platform import Platform

    started: list[Platform] = []

    async def factory(
        plugins: list[str] | None = None,
        *,
        settings: dict[str, dict[str, Any]] | None = None,
        core: dict[str, dict[str, Any]] | None = None,
        extra_plugins: dict[str, Any] | None = None,
        database: Database | None = None,
    ) -> Platform:
        if database is None:
            database = db
        core = dict(core or {})
        core["platform"] = {"data_dir": str(tmp_path / "data"), **core.get("platform", {})}
        names = all_plugin_names() if plugins is None else plugins
        platform = Platform.from_deployment(
            "test.toml", text=deployment_text(names, settings, core), extra_plugins=extra_plugins
        )
        await platform.start(database)
        started.append(platform)
        return platform

    yield factory
    for platform in reversed(started):
        await platform.stop()


@pytest.fixture
async def platform(make_platform: PlatformFactory) -> Any:
    return await make_platform()


def as_identity(app: Any, identity: Any) -> Any:
    """Wrap an ASGI app so every request arrives already signed in as ``identity``.

    Only the test kit does this (the users plugin keeps an identity it finds in the
    scope); it lets a plugin's tests act as a customer or an admin without the users
    plugin's sign-in flow.
    """
    from core.access import SCOPE_KEY

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, SCOPE_KEY: identity}
        await app(scope, receive, send)

    return wrapped


def make_identity(*permissions: str, user_id: uuid.UUID | None = None, roles: tuple[str, ...] = (),
                  locale: str | None = None) -> Any:
    from core.access import Identity

    return Identity(user_id=user_id or uuid.uuid4(), display_name="Test User", roles=frozenset(roles),
                    permissions=frozenset(permissions), locale=locale, via="test")


@contextlib.asynccontextmanager
async def app_client(platform: Any, base_url: str = "http://testserver", identity: Any = None,
                     app: Any = None) -> AsyncIterator[httpx.AsyncClient]:
    from core.web.app import create_app

    app = app or create_app(platform)
    asgi = as_identity(app, identity) if identity is not None else app
    transport = httpx.ASGITransport(app=asgi, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=base_url, follow_redirects=False) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.fixture
async def client(platform: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(platform) as http:
        yield http


@pytest.fixture
async def client_as(platform: Any) -> AsyncIterator[Callable[..., Any]]:
    """``http = await client_as("ledger.view", user_id=...)``: a client signed in with those permissions."""
    from core.web.app import create_app

    app = create_app(platform)
    stack = contextlib.AsyncExitStack()

    async def factory(*permissions: str, **kwargs: Any) -> httpx.AsyncClient:
        identity = make_identity(*permissions, **kwargs)
        http = await stack.enter_async_context(app_client(platform, identity=identity, app=app))
        http.identity = identity  # type: ignore[attr-defined]
        return http

    async with stack:
        yield factory


class JobsHelper:
    def __init__(self, platform: Any) -> None:
        from core.jobs.runtime import Jobs

        self.platform = platform
        self.service = platform.service(Jobs)

    async def run_now(self, name: str, **kwargs: Any) -> Any:
        """Run a registered task's function directly, as a worker would."""
        return await self.platform.tasks.get(name).fn(self.platform, **kwargs)

    async def close_day(self) -> dt.date:
        return await self.service.close_day()


@pytest.fixture
def jobs(platform: Any) -> JobsHelper:
    return JobsHelper(platform)


@pytest.fixture
def broker(platform: Any) -> Any:
    """The platform's test broker: ``broker.kicked(name)`` lists queued tasks, ``await broker.drain()`` runs them."""
    from core.jobs.runtime import Jobs

    return platform.service(Jobs).broker


@pytest.fixture
def business_date(platform: Any) -> Any:
    from core.jobs.runtime import Jobs

    return platform.service(Jobs).calendar


# -- processes and ports ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def live_server(platform: Any) -> AsyncIterator[str]:
    """``async with live_server(platform) as base_url:`` the platform's site on a free port, in this loop.

    For clients that need real HTTP (a browser, Schemathesis); the server shares the test's
    database, so the test sees what the requests did and everything is rolled back.
    """
    import uvicorn

    from core.web.app import create_app

    config = uvicorn.Config(create_app(platform), host="127.0.0.1", port=free_port(), log_config=None,
                            access_log=False, lifespan="off", proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raise the reason it did not start
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        await task


async def wait_for_http(url: str, timeout: float = 30) -> None:  # noqa: ASYNC109 - a deadline, not a cancel
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as http:
        while True:
            try:
                response = await http.get(url)
                if response.status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout}s")
            await asyncio.sleep(0.2)
