"""The passport check: the data's consistency, the passport's age limits, and the MVD's list of invalid passports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.contracts.kyc import PASSPORT, KycCheckDefaults, KycProblem, KycResult, KycStatus, KycSubject
from plugins.kyc.passport import rules
from plugins.kyc.passport.invalid_list import REASONS, InvalidPassports

N_ = str
LISTED = N_("the Ministry of Internal Affairs lists this passport as invalid")
LIST_NOT_LOADED = N_("the list of invalid passports is not loaded yet; the passport will be checked again")


class PassportCheck(KycCheckDefaults):
    name = "passport"
    title = N_("Passport: data and validity")
    document_kinds = frozenset({PASSPORT})

    def __init__(self, invalid: InvalidPassports | None, *, max_list_age_days: int = 7,
                 today: Callable[[], dt.date] = dt.date.today, list_retry_s: int = 3600) -> None:
        self.invalid = invalid
        self.max_list_age_days = max_list_age_days
        self.today = today
        self.list_retry_s = list_retry_s

    def validate(self, subject: KycSubject) -> list[KycProblem]:
        document = subject.document(PASSPORT)
        if document is None or len(document.number) != 10:
            return []
        return rules.form_problems(document.number, document.issued_on, subject.birth_date)

    async def check(self, subject: KycSubject) -> KycResult:
        document = subject.document(PASSPORT)
        if document is None or document.issued_on is None or subject.birth_date is None:
            return KycResult(KycStatus.FAILED, self.name, reasons=(rules.TOO_EARLY,))
        problems = rules.form_problems(document.number, document.issued_on, subject.birth_date)
        reasons = [p.message for p in problems]
        reasons += rules.reasons_against(document.number, document.issued_on, subject.birth_date, self.today())
        until = rules.valid_until(document.issued_on, subject.birth_date)
        details: dict[str, object] = {"valid_until": until.isoformat() if until else None}
        if self.invalid is None:
            details["invalid_list"] = "off"
        else:
            state = await self.invalid.state()
            if not state.loaded:
                return KycResult(KycStatus.ERROR, self.name, reasons=(LIST_NOT_LOADED,),
                                 retry_after_s=self.list_retry_s)
            listed, reason = await self.invalid.lookup(document.number)
            age_days = (dt.datetime.now(dt.UTC) - state.imported_at).days
            details["invalid_list"] = {"imported_at": state.imported_at.isoformat(), "stale": age_days > self.max_list_age_days}
            if listed:
                reasons.append(LISTED)
                details["mvd_reason"] = REASONS.get(reason, str(reason)) if reason is not None else None
        if reasons:
            return KycResult(KycStatus.FAILED, self.name, reasons=tuple(reasons), details=details)
        return KycResult(KycStatus.PASSED, self.name, details=details)
