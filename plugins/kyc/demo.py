"""Demo data: Anna is verified, Boris waits for a reviewer (the tax service knows him under another ITN).

Their documents are the ones the sandbox's emulators know (``kyc.itn``'s emulator builds its
taxpayers from :data:`DEMO_PEOPLE`), so "Check again" in the admin gives the same answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stdnum.ru import inn as ru_inn

from core.access.context import acting_as
from core.contracts.kyc import ITN, PASSPORT, KycResult, KycStatus
from core.users.service import Users
from plugins.kyc.records import State
from plugins.kyc.service import KycService

if TYPE_CHECKING:
    from core.platform import Platform


def personal_inn(first_ten: str) -> str:
    """A person's ITN: ten digits and the two check digits python-stdnum computes."""
    return first_ten + ru_inn.calc_personal_check_digits(first_ten)


ANNA = {
    "last_name": "Петрова", "first_name": "Анна", "middle_name": "Сергеевна", "birth_date": "1995-07-02",
    "birth_place": "гор. Москва", "passport_number": "40 20 654321", "passport_issued_on": "2020-08-15",
    "passport_issuer_code": "770-001", "passport_issuer": "ГУ МВД России по г. Москве",
    "itn": personal_inn("7701234567"), "snils": "112-233-445 95", "consent": "1",
}
BORIS = {
    "last_name": "Смирнов", "first_name": "Борис", "middle_name": "", "birth_date": "1994-11-30",
    "birth_place": "гор. Подольск", "passport_number": "46 19 000777", "passport_issued_on": "2019-12-10",
    "passport_issuer_code": "500-003", "passport_issuer": "ГУ МВД России по Московской обл.",
    "itn": personal_inn("5003123451"), "consent": "1",
}
#: The ITN the tax service has for Boris (not the one he typed).
BORIS_REAL_ITN = personal_inn("5003123450")
DEMO_PEOPLE = {"anna": ANNA, "boris": BORIS}
BORIS_LOGIN = ("boris@example.com", "wooden spoon demo 2026", "Boris Demo")


async def load(platform: Platform, progress) -> None:
    users = platform.service(Users)
    with acting_as("demo"):
        anna = await users.find("anna@example.com")
        boris = await users.find(BORIS_LOGIN[0])
        if boris is None:
            boris = await users.create(BORIS_LOGIN[0], BORIS_LOGIN[1], display_name=BORIS_LOGIN[2], locale="ru",
                                       roles=("customer",))
            progress(f"demo user {BORIS_LOGIN[0]}")
        if anna is not None:
            await _submission(platform, anna.id, ANNA, State.VERIFIED, {})
        await _submission(platform, boris.id, BORIS, State.REVIEW, {ITN: BORIS_REAL_ITN})
    progress("identity verification: Anna verified, Boris waiting for a reviewer")


async def _submission(platform: Platform, user_id, fields, state: State, found_itns) -> None:
    """A submission as the checks would have left it (the providers are not up while demo data load)."""
    kyc = platform.service(KycService)
    if await kyc.store.current(user_id) is not None:
        return
    import dataclasses
    import uuid

    subject = kyc.validate(fields)  # reads only the documents the enabled checks need
    submission_id = uuid.uuid4()
    subject = dataclasses.replace(subject, reference=str(submission_id))
    checks = [c.name for c in kyc.checks() if c.document_kinds <= set(subject.documents)]
    async with platform.db.transaction():
        submission = await kyc.store.insert(submission_id, user_id, subject, checks, [])
        for name in checks:
            result = KycResult(KycStatus.PASSED, name)
            if name == ITN and ITN in found_itns:
                from plugins.kyc.itn.check import MISMATCH

                result = KycResult(KycStatus.FAILED, name, reasons=(MISMATCH,),
                                   details={"found_itn": found_itns[ITN]})
            elif name == PASSPORT:
                result = KycResult(KycStatus.PASSED, name, details={"demo": True})
            await kyc.store.append_result(submission, result, 1, None)
        await kyc.store.set_state(submission.id, state, decided=state is State.VERIFIED)
