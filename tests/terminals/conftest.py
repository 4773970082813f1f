"""Fixtures for the terminals tests: a platform with the plugin and both drivers, fast timings,
and a kiosk harness (an emulated device on a pseudo-terminal, its terminal, the runner)."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core.ledger import Ledger
from core.money import Money
from core.users.testing import FAST_HASHING, make_user
from plugins.terminals.emulation import serve_pty
from plugins.terminals.runner import Runner
from plugins.terminals.service import Terminals

PLUGINS = ["terminals", "terminals.ccnet", "terminals.id003"]
FAST = {
    "terminals": {"poll_interval_ms": 10, "state_check_ms": 20, "supervise_ms": 20, "heartbeat_s": 1, "lease_s": 5,
                  "backoff_initial_ms": 20, "backoff_max_ms": 200},
    **FAST_HASHING,
}


def rub(amount: str | int) -> Money:
    return Money.of(amount, "RUB")


@pytest.fixture
async def tplatform(make_platform):
    return await make_platform(PLUGINS, settings=FAST, core={"web": {"default_locale": "en"}})


async def until(predicate: Callable[[], Awaitable[Any] | Any], timeout: float = 5.0, what: str = "") -> Any:
    """Wait for ``predicate()`` to be true (it may be async); return its value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


class KioskHarness:
    """One terminal whose device is an emulator on a pty, and runners to drive it."""

    def __init__(self, platform: Any, driver: str) -> None:
        self.platform = platform
        self.driver = driver
        self.terminals: Terminals = platform.service(Terminals)
        self.device = importlib.import_module(f"plugins.terminals.{driver}.emulator").build_emulator()
        self.validator = self.device.validator
        self.stack = contextlib.AsyncExitStack()
        self.runners: list[tuple[Runner, asyncio.Event, asyncio.Task[None]]] = []
        self.terminal: Any = None
        self.path = ""

    async def open(self, terminal_id: str = "kiosk-1", denominations: str = "100, 500, 1000, 5000") -> KioskHarness:
        self.path = await self.stack.enter_async_context(serve_pty(self.device))
        self.terminal, self.key = await self.terminals.store.create(
            {"id": terminal_id, "driver": self.driver, "port": self.path, "denominations": denominations,
             "location": "Test lobby"})
        return self

    async def close(self) -> None:
        for _runner, stop, task in self.runners:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
        await self.stack.aclose()

    def start_runner(self, owner: str | None = None) -> Runner:
        runner = Runner(self.platform, self.terminals.settings, owner)
        stop = asyncio.Event()
        import contextvars

        task = asyncio.get_running_loop().create_task(runner.run(stop), context=contextvars.Context())
        self.runners.append((runner, stop, task))
        return runner

    async def stop_runner(self, runner: Runner) -> None:
        for entry in self.runners:
            if entry[0] is runner:
                entry[1].set()
                await asyncio.wait_for(entry[2], timeout=10)
                self.runners.remove(entry)
                return

    async def crash_runner(self, runner: Runner) -> None:
        """The worker dies: its tasks stop where they are, nothing is released."""
        for entry in self.runners:
            if entry[0] is runner:
                for line in runner.lines.values():
                    if line.task:
                        line.task.cancel()
                entry[2].cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await entry[2]
                for line in runner.lines.values():
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        if line.task:
                            await line.task
                self.runners.remove(entry)
                return

    async def refreshed(self) -> Any:
        self.terminal = await self.terminals.store.get(self.terminal.id)
        return self.terminal

    async def online(self) -> bool:
        terminal = await self.refreshed()
        return terminal.status == "online" and terminal.device_state in ("disabled", "idle")

    async def customer(self, login: str | None = None) -> Any:
        return await make_user(self.platform, login)

    async def start_session(self, user: Any) -> Any:
        code, _ = await self.terminals.deposits.issue_code(user.id)
        await until(self.online, what="the terminal to come online")
        return await self.terminals.deposits.start(await self.refreshed(), code)

    async def balance(self, user_id: Any) -> int:
        account = await self.platform.service(Ledger).find_account(owner=f"user:{user_id}", purpose="wallet",
                                                                    currency="RUB")
        return account.balance.posted if account else 0

    async def notes(self, kind: str = "stacked") -> list[Any]:
        return await self.terminals.crediting.events(self.terminal.id, kinds=(kind,))

    async def cash_in_box(self) -> int:
        return await self.terminals.accounts.cash_in_box(self.terminal.id, "RUB")


@pytest.fixture
async def kiosk(tplatform):
    harness = KioskHarness(tplatform, "ccnet")
    await harness.open()
    yield harness
    await harness.close()


@pytest.fixture(params=["ccnet", "id003"])
async def any_kiosk(request, tplatform):
    harness = KioskHarness(tplatform, request.param)
    await harness.open()
    yield harness
    await harness.close()
