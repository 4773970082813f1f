"""Scorista: a credit decision in two steps, the request and then polling for the answer.

Every call is ``POST {api_url}/{product}/json`` with three headers: ``username`` (the
account's e-mail), ``nonce`` (a fresh random SHA-1 hex) and ``password`` =
``sha1_hex(nonce + token)``, where the token is the account's API secret. The first call
sends ``{"form": {...}}`` and is answered ``{"status": "OK", "requestid": ...}``; then
``{"requestID": ...}`` is answered ``WAIT`` until the decision is ready, ``DONE`` with it,
or ``ERROR``. The shapes come from independent client implementations (no public
specification was found), and the decision depends on the loan asked for.
"""

from __future__ import annotations

import hashlib
import os
from decimal import Decimal
from typing import Any

import httpx

from core.contracts.scoring import (
    AUTH_FAILED,
    INVALID_REQUEST,
    UNREADABLE,
    ProviderDefaults,
    ScoringRequest,
    ScoringResult,
    ScoringStatus,
)
from plugins.scoring.wire import Answer, Wire

PRODUCTION_API = "https://api.scorista.ru"


def password_for(nonce: str, token: str) -> str:
    """The ``password`` header: SHA-1 hex of the nonce followed by the token."""
    return hashlib.sha1((nonce + token).encode()).hexdigest()


def new_nonce() -> str:
    return hashlib.sha1(os.urandom(32)).hexdigest()


def _date(value: Any) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def loan_form(request: ScoringRequest) -> dict[str, Any]:
    """The ``form`` of a credit request: who asks, and for what loan."""
    a = request.applicant
    personal = {"personaID": request.request_id, "lastName": a.last_name, "firstName": a.first_name,
                "patronimic": a.middle_name, "birthDate": _date(a.birth_date), "passportSN": a.passport,
                "gender": {"male": 1, "female": 2}.get(a.gender, 0), "inn": a.taxpayer_number}
    assert request.amount is not None and request.term_days is not None
    loan = {"loanID": request.request_id, "loanSum": str(request.amount.amount), "loanCurrency": request.amount.currency,
            "loanPeriod": request.term_days}
    return {"persona": {"personalInfo": personal, "contactInfo": {"cellular": a.phone}}, "info": {"loan": loan}}


class ScoristaProvider(ProviderDefaults):
    name = "scorista"
    title = "Scorista"
    asynchronous = True
    depends_on_loan = True

    def __init__(self, *, username: str, token: str, api_url: str = PRODUCTION_API, product: str = "mixed",
                 timeout_s: float = 30, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.username = username
        self.token = token
        self.url = f"{api_url.rstrip('/')}/{product}/json"
        self.wire = Wire(self.name, timeout_s, transport)

    def headers(self) -> dict[str, str]:
        nonce = new_nonce()
        return {"username": self.username, "nonce": nonce, "password": password_for(nonce, self.token)}

    async def score(self, request: ScoringRequest) -> ScoringResult:
        a = request.applicant
        missing = [label for label, value in (("last name", a.last_name), ("first name", a.first_name),
                                               ("birth date", a.birth_date), ("passport", a.passport),
                                               ("loan amount", request.amount), ("loan term", request.term_days))
                   if not value]
        if missing:
            return self.error(INVALID_REQUEST, f"Scorista needs the applicant's {', '.join(missing)}")
        answer = await self.wire.post_json(self.url, {"form": loan_form(request)}, self.headers())
        if isinstance(answer, ScoringResult):
            return answer
        data, raw = answer
        status = str(data.get("status", "")).upper()
        if status == "OK" and data.get("requestid"):
            return ScoringResult(ScoringStatus.PENDING, self.name, report_ref=str(data["requestid"]), document=raw.text)
        return self.refusal(data, raw)

    async def fetch(self, report_ref: str) -> ScoringResult:
        answer = await self.wire.post_json(self.url, {"requestID": report_ref}, self.headers())
        if isinstance(answer, ScoringResult):
            return answer
        data, raw = answer
        status = str(data.get("status", "")).upper()
        if status == "WAIT":
            return ScoringResult(ScoringStatus.PENDING, self.name, report_ref=report_ref)
        if status == "DONE" and isinstance(data.get("data"), dict):
            return self.decision(report_ref, data["data"], raw.text)
        return self.refusal(data, raw, report_ref)

    def refusal(self, data: dict[str, Any], raw: Answer, report_ref: str = "") -> ScoringResult:
        if str(data.get("status", "")).upper() != "ERROR":
            return self.wire.failure(UNREADABLE, f"Scorista answered status {data.get('status')!r}",
                                     document=raw.text)
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        code, message = str(error.get("code", "")), str(error.get("message") or "no message")
        if error.get("details"):
            message = f"{message}: {error['details']}"
        if code in ("401", "403") or "auth" in message.lower():
            return ScoringResult(ScoringStatus.ERROR, self.name, report_ref=report_ref, error_code=AUTH_FAILED,
                                 error=f"Scorista refused our credentials: {message}", document=raw.text)
        return ScoringResult(ScoringStatus.ERROR, self.name, report_ref=report_ref,
                             error_code=f"scorista_{code or 'error'}", error=message, document=raw.text,
                             retryable=code.startswith("5"))

    def decision(self, report_ref: str, data: dict[str, Any], text: str) -> ScoringResult:
        decision = data.get("decision") if isinstance(data.get("decision"), dict) else {}
        additional = data.get("additional") if isinstance(data.get("additional"), dict) else {}
        factors: dict[str, Any] = {}
        verdict = {"1": "approve", "0": "decline"}.get(str(decision.get("decisionBinnar", "")))
        if verdict:
            factors["scorista.approved"] = verdict == "approve"
        for block, factor in (("creditHistory", "scorista.credit_history_score"), ("trustRating",
                                                                                     "scorista.trust_rating")):
            value = (additional.get(block) or {}).get("score") if isinstance(additional.get(block), dict) else None
            try:
                factors[factor] = int(Decimal(str(value)))
            except (ArithmeticError, ValueError, TypeError):
                continue
        if verdict is None:
            return self.wire.failure(UNREADABLE, "Scorista answered DONE without a decision", document=text)
        return ScoringResult(ScoringStatus.DONE, self.name, score=factors.get("scorista.credit_history_score"),
                             decision=verdict, report_ref=report_ref, factors=factors, document=text,
                             details={"decision": decision.get("decisionName", ""), "additional": additional})
