"""The SNILS check: the number's check digits (there is no public register to ask)."""

from __future__ import annotations

from core.contracts.kyc import SNILS, KycCheckDefaults, KycProblem, KycResult, KycStatus, KycSubject
from plugins.kyc.snils.number import is_valid

N_ = str
WRONG_CHECK_DIGITS = N_("the check digits do not match: check the number")


class SnilsCheck(KycCheckDefaults):
    name = "snils"
    title = N_("SNILS check digits")
    document_kinds = frozenset({SNILS})

    def validate(self, subject: KycSubject) -> list[KycProblem]:
        document = subject.document(SNILS)
        if document is not None and not is_valid(document.number):
            return [KycProblem("snils", WRONG_CHECK_DIGITS)]
        return []

    async def check(self, subject: KycSubject) -> KycResult:
        document = subject.document(SNILS)
        if document is None or not is_valid(document.number):
            return KycResult(KycStatus.FAILED, self.name, reasons=(WRONG_CHECK_DIGITS,))
        return KycResult(KycStatus.PASSED, self.name)
