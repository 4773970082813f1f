"""What every scoring provider's ``emulator.py`` builds on: the test persons, failure modes, control.

An emulator plays a bureau's or scoring service's side on loopback HTTP (or in-process, in
sandbox mode), so the providers, the scoring service and the demo run with no network and
no contract with the bureau. All three emulators know the same people:
:data:`TEST_PERSONS` are UBKI's official FICO test persons (name, taxpayer number, birth
date, document, phone and FICO score as UBKI publishes them); the rest of each profile
(microfinance history, the other bureaus' views) is invented for the emulators and says
so. Anyone else is unknown to the bureaus.

Failure modes (:class:`Mode`), switched with ``POST /_emulator/modes {"modes": [...]}``:
``timeout`` answers only after ``stall_s``; ``down`` answers HTTP 503; ``garbage`` answers an
HTML page. ``GET /_emulator`` shows the modes and every call the emulator received.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post

from core.contracts.scoring import Applicant


@dataclass(frozen=True)
class MicrofinanceHistory:
    """A person's payday-loan record as a bureau would summarise it (invented for the emulators)."""

    mfi_score: int          # UBKI's MFI score, 0-300
    open_deals: int
    closed_deals: int
    sold_deals: int
    last_closed_on_time: int  # 1 yes, 0 no, -1 nothing closed
    max_delay_days: int
    overdue: Decimal
    debt: Decimal
    requests_last_week: int


@dataclass(frozen=True)
class TestPerson:
    taxpayer_number: str
    last_name: str
    first_name: str
    middle_name: str
    birth_date: dt.date
    #: "passport" (series + number) or "id_card" (number only).
    document_type: str
    document_series: str
    document_number: str
    phone: str
    #: The FICO score UBKI's test environment gives this person (official).
    fico: int
    history: MicrofinanceHistory

    @property
    def passport(self) -> str:
        return f"{self.document_series} {self.document_number}".strip()

    @property
    def applicant(self) -> Applicant:
        return Applicant(last_name=self.last_name, first_name=self.first_name, middle_name=self.middle_name,
                         birth_date=self.birth_date, taxpayer_number=self.taxpayer_number, passport=self.passport,
                         phone=self.phone, gender="female" if self.middle_name.endswith("НА") else "male")


TEST_PERSONS: tuple[TestPerson, ...] = (
    TestPerson("2726020593", "БОГДАНОВ", "БОГДАН", "БОГДАНОВИЧ", dt.date(1974, 8, 20), "id_card", "", "001013900",
               "+380935171868", 776, MicrofinanceHistory(262, 0, 4, 0, 1, 0, Decimal("0"), Decimal("0"), 1)),
    TestPerson("2972566397", "ИВАНЦОВА", "МАРИЯ", "ПЕТРОВНА", dt.date(1981, 5, 20), "passport", "СЕ", "311111",
               "+380506630641", 598, MicrofinanceHistory(171, 1, 3, 0, 1, 0, Decimal("0"), Decimal("2500.00"), 2)),
    TestPerson("3233312116", "ПОШТАР", "БОГДАН", "ІВАНОВИЧ", dt.date(1988, 7, 10), "passport", "КО", "220394",
               "+380971321122", 492, MicrofinanceHistory(108, 2, 1, 0, 0, 12, Decimal("850.00"), Decimal("5400.00"), 4)),
    TestPerson("3332643095", "НИКОЛАЕВ", "ВАДИМ", "ПЕТРОВИЧ", dt.date(1991, 3, 30), "passport", "ДО", "270000",
               "+380981220000", 434, MicrofinanceHistory(64, 3, 5, 1, 0, 45, Decimal("3200.50"), Decimal("8700.00"), 6)),
)

#: Someone no bureau has heard of (a valid-looking taxpayer number that is in no emulator).
NOBODY = Applicant(last_name="НЕВІДОМИЙ", first_name="ІВАН", middle_name="ІВАНОВИЧ", birth_date=dt.date(2000, 1, 1),
                   taxpayer_number="3652500018", passport="АА 000001", phone="+380670000001", gender="male")


def find_person(*, taxpayer_number: str = "", last_name: str = "", birth_date: str = "") -> TestPerson | None:
    """A test person by taxpayer number, or else by last name and ISO birth date."""
    for person in TEST_PERSONS:
        if taxpayer_number and person.taxpayer_number == taxpayer_number.strip():
            return person
    if last_name and birth_date:
        for person in TEST_PERSONS:
            if person.last_name == last_name.strip().upper() and person.birth_date.isoformat() == birth_date:
                return person
    return None


class Mode(StrEnum):
    #: The work is done, but the answer comes after ``stall_s`` (longer than any client waits).
    TIMEOUT = "timeout"
    #: Every call is answered HTTP 503.
    DOWN = "down"
    #: Every call is answered with an HTML page instead of the protocol's format.
    GARBAGE = "garbage"


@dataclass
class EmulatedCall:
    operation: str
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    detail: str = ""


class ProviderEmulator:
    """The common part of an emulated provider; subclasses add the protocol's endpoints."""

    provider = ""
    title = ""

    def __init__(self, *, stall_s: float = 35.0, modes: Iterable[Mode | str] = ()) -> None:
        self.stall_s = stall_s
        self.modes: set[Mode] = {Mode(m) for m in modes}
        self.calls: list[EmulatedCall] = []
        self._app: Litestar | None = None

    # -- what subclasses provide -----------------------------------------------------------

    def routes(self) -> list[Any]:
        return []

    def state(self) -> dict[str, Any]:
        """What ``GET /_emulator`` shows besides modes and calls."""
        return {}

    def reset(self) -> None:
        self.modes.clear()
        self.calls.clear()

    # -- helpers for the endpoints ----------------------------------------------------------

    def record(self, operation: str, detail: str = "") -> None:
        self.calls.append(EmulatedCall(operation, detail=detail))
        del self.calls[:-500]  # a long-running sandbox keeps only the recent calls

    def count(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)

    def set_modes(self, modes: Iterable[Mode | str]) -> None:
        self.modes = {Mode(m) for m in modes}

    async def disturbance(self) -> Response[str] | None:
        """The answer a failure mode gives instead of the real one (None: answer normally)."""
        if Mode.DOWN in self.modes:
            return Response("Service Unavailable", status_code=503, media_type=MediaType.TEXT)
        if Mode.GARBAGE in self.modes:
            return Response("<html><body><h1>Maintenance</h1></body></html>", media_type=MediaType.HTML)
        if Mode.TIMEOUT in self.modes:
            await asyncio.sleep(self.stall_s)
        return None

    def app(self) -> Litestar:
        """The emulator as an ASGI application (built once)."""
        if self._app is None:
            self._app = Litestar(route_handlers=[*self._control_routes(), *self.routes()], debug=False,
                                 openapi_config=None)
        return self._app

    def _control_routes(self) -> list[Any]:
        emulator = self

        @get("/_emulator")
        async def show_state() -> dict[str, Any]:
            return {"provider": emulator.provider, "modes": sorted(emulator.modes),
                    "calls": [{"operation": c.operation, "at": c.at.isoformat(), "detail": c.detail}
                              for c in emulator.calls[-100:]],
                    "test_persons": [{"taxpayer_number": p.taxpayer_number, "name": f"{p.last_name} {p.first_name}",
                                      "birth_date": p.birth_date.isoformat()} for p in TEST_PERSONS],
                    **emulator.state()}

        @post("/_emulator/modes", status_code=200)
        async def set_modes(request: Request[Any, Any, Any]) -> Response[Any]:
            try:
                wanted = json.loads(await request.body() or b"{}").get("modes", [])
                emulator.set_modes(wanted)
            except (ValueError, AttributeError, TypeError):
                return Response({"detail": f"modes must be a list of: {', '.join(Mode)}"}, status_code=400)
            return Response({"modes": sorted(emulator.modes)})

        @post("/_emulator/reset", status_code=200)
        async def reset() -> dict[str, Any]:
            emulator.reset()
            return {"reset": True}

        return [show_state, set_modes, reset]
