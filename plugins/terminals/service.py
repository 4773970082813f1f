"""The terminals service (``platform.service(Terminals)``): everything the routes, the runner and
other plugins use, in one place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.contracts.terminals import TerminalDriver
from core.money import Money
from plugins.terminals.accounts import TerminalAccounts
from plugins.terminals.crediting import Crediting
from plugins.terminals.deposits import Deposits
from plugins.terminals.encashment import Encashment
from plugins.terminals.records import SessionRecord, TerminalRecord
from plugins.terminals.store import TerminalStore

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.terminals.settings import TerminalsSettings


@dataclass(frozen=True)
class TerminalView:
    """A terminal as the admin list shows it."""

    terminal: TerminalRecord
    online: bool
    cash_in_box: Money
    unclaimed: Money
    session: SessionRecord | None
    driver_enabled: bool


class Terminals:
    def __init__(self, platform: Platform, settings: TerminalsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.store = TerminalStore(platform, settings)
        self.deposits = Deposits(platform, settings)
        self.crediting = Crediting(platform, settings)
        self.encashment = Encashment(platform)
        self.accounts = TerminalAccounts(platform)

    def driver(self, name: str) -> TerminalDriver:
        return self.platform.registry("terminal_drivers").get(name)

    def online(self, terminal: TerminalRecord) -> bool:
        """Its line is open and a worker has renewed it recently."""
        return terminal.status != "offline" and terminal.seen_within(self.settings.offline_after_s,
                                                                      dt.datetime.now(dt.UTC))

    async def view(self, terminal: TerminalRecord) -> TerminalView:
        return TerminalView(
            terminal, self.online(terminal),
            Money(await self.accounts.cash_in_box(terminal.id, terminal.currency), terminal.currency),
            Money(await self.accounts.unclaimed_total(terminal.id, terminal.currency), terminal.currency),
            await self.deposits.current(terminal.id),
            terminal.driver in self.platform.registry("terminal_drivers"))

    async def overview(self) -> list[TerminalView]:
        return [await self.view(t) for t in await self.store.list()]
