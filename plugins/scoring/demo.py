"""Demo inquiries: an assessment for each of the emulators' test persons (sandbox only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.access.context import acting_as
from core.money import Money
from plugins.scoring import sandbox
from plugins.scoring.emulation import TEST_PERSONS
from plugins.scoring.service import ScoringService

if TYPE_CHECKING:
    from core.platform import Platform

CURRENCY = "UAH"


async def load(platform: Platform, progress) -> None:
    service = platform.service(ScoringService)
    providers = [p for p in service.providers() if getattr(p, "emulator", None) is not None]
    if not sandbox.sandbox_on(platform) or not providers:
        return  # real bureaus charge for every inquiry: the demo asks emulators only
    names = [p.name for p in providers]
    with acting_as("demo"):
        for number, person in enumerate(TEST_PERSONS, start=1):
            reference = f"demo:loan-application:{number}"
            if await service.store.by_reference(reference):
                continue
            await service.assess(reference, person.applicant, consent_ref=f"demo:consent:{number}",
                                 amount=Money.of(str(2000 * number), CURRENCY), term_days=30, providers=names)
            progress(f"demo credit assessment {reference}")
