"""A platform with the scoring plugin and its three providers, each on its in-process emulator."""

from __future__ import annotations

from typing import Any

import pytest

from core import hookimpl
from core.contracts.scoring import ScoringRequest
from core.money import Money
from plugins.scoring.emulation import TEST_PERSONS
from plugins.scoring.service import ScoringService

PLUGINS = ["scoring", "scoring.ubki", "scoring.mbki", "scoring.scorista"]


class Listener:
    """Collects ``on_scoring_completed``."""

    def __init__(self) -> None:
        self.completed: list[Any] = []

    @hookimpl
    def on_scoring_completed(self, inquiry):
        self.completed.append(inquiry)


class World:
    def __init__(self, platform: Any, listener: Listener) -> None:
        self.platform = platform
        self.listener = listener
        self.scoring: ScoringService = platform.service(ScoringService)

    def emulator(self, name: str) -> Any:
        return self.platform.registry("scoring_providers").get(name).emulator

    def request(self, request_id: str, person: int = 0, **changes: Any) -> ScoringRequest:
        fields = {"applicant": TEST_PERSONS[person].applicant, "amount": Money.of("5000.00", "UAH"), "term_days": 30,
                  "consent_ref": "consent:1", **changes}
        return ScoringRequest(request_id=request_id, **fields)


@pytest.fixture
async def make_world(make_platform):
    async def factory(plugins: list[str] = PLUGINS, database: Any = None, access: dict[str, Any] | None = None,
                      **scoring: Any) -> World:
        listener = Listener()
        platform = await make_platform([*plugins], core={"platform": {"sandbox": True}},
                                       settings={"scoring": {"first_poll_after_s": 0, **scoring},
                                                 **({"core.access": access} if access else {})},
                                       extra_plugins={"listener": listener}, database=database)
        for provider in platform.registry("scoring_providers"):
            provider.emulator.stall_s = 1.0
            provider.wire.timeout_s = 0.3
        return World(platform, listener)

    return factory


@pytest.fixture
async def world(make_world) -> World:
    return await make_world()
