"""Test helpers for identity checks: the providers' emulators on loopback ports, and good sample data.

Used by the kyc tests and the check contract suite (``tests/contracts/test_kyc_checks.py``);
a third-party check plugin can use them too::

    async with KycSandbox.start() as sandbox:
        platform = await make_platform(PLUGINS, settings=sandbox.settings())
        await sandbox.load_invalid_passports(platform)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from core.sandbox import LoopbackServer
from core.testing import free_port
from plugins.kyc.demo import ANNA, BORIS, BORIS_REAL_ITN
from plugins.kyc.itn.emulator import IVAN, FnsEmulator
from plugins.kyc.passport.emulator import MvdEmulator
from plugins.kyc.passport.settings import LIST_PATH

PLUGINS = ["kyc", "kyc.itn", "kyc.passport", "kyc.snils"]

#: A person the emulated tax service knows, with documents every check passes.
GOOD = {**ANNA}
#: Known to the tax service, no patronymic, gives a wrong ITN (the real one: ``BORIS_REAL_ITN``).
MISMATCHED = {**BORIS}
REAL_ITN_OF_MISMATCHED = BORIS_REAL_ITN
#: A passport the emulated MVD lists as invalid (reason 2: replaced by a new one).
LISTED_PASSPORT = "45 05 123456"


def person(**changes: str) -> dict[str, str]:
    """The good person's fields with ``changes`` (``person(itn="")``)."""
    return {**GOOD, **changes}


def ivan() -> dict[str, str]:
    """A third taxpayer the emulated service knows (for tests that need a fresh passport)."""
    return {
        "last_name": IVAN.last_name, "first_name": IVAN.first_name, "middle_name": IVAN.middle_name,
        "birth_date": "1996-03-14", "passport_number": IVAN.passport, "passport_issued_on": "2021-04-20",
        "passport_issuer_code": "500-001", "itn": IVAN.inn, "consent": "1",
    }


@dataclass
class KycSandbox:
    fns: FnsEmulator = field(default_factory=FnsEmulator)
    mvd: MvdEmulator = field(default_factory=MvdEmulator)
    fns_url: str = ""
    mvd_url: str = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls) -> AsyncIterator[KycSandbox]:
        box = cls()
        async with contextlib.AsyncExitStack() as stack:
            fns = await stack.enter_async_context(LoopbackServer(box.fns.app(), free_port()))
            mvd = await stack.enter_async_context(LoopbackServer(box.mvd.app(), free_port()))
            box.fns_url, box.mvd_url = fns.url, mvd.url
            yield box

    def reset(self) -> None:
        self.fns.reset()
        self.mvd.reset()

    @property
    def list_url(self) -> str:
        return f"{self.mvd_url}{LIST_PATH}"

    def settings(self, **kyc: Any) -> dict[str, dict[str, Any]]:
        """Deployment settings pointing the checks at the emulators, without waits."""
        return {
            "kyc": kyc,
            "kyc.itn": {"base_url": self.fns_url, "first_poll_delay_s": 0, "timeout_s": 2, "requests_per_minute": 0},
            "kyc.passport": {"list_url": self.list_url, "timeout_s": 5},
        }

    async def load_invalid_passports(self, platform: Any) -> Any:
        from plugins.kyc.passport.invalid_list import InvalidPassports

        report = await platform.service(InvalidPassports).download(self.list_url)
        assert report.status == "done", report
        return report


async def settle(kyc: Any, submission_id: Any, *, rounds: int = 10, step_s: int = 3600) -> Any:
    """Run rounds of checks, moving the runner's clock on between them, until the submission is decided."""
    import datetime as dt

    from plugins.kyc.records import State

    base = kyc.runner.clock
    shift = dt.timedelta()
    outcome = None
    try:
        for _ in range(rounds):
            outcome = await kyc.run_round(submission_id)
            if outcome is not None and outcome.state is not State.CHECKING:
                return outcome
            shift += dt.timedelta(seconds=step_s)
            kyc.runner.clock = lambda delta=shift: base() + delta
    finally:
        kyc.runner.clock = base
    return outcome
