"""Scorista's side: ``POST /{product}/json`` for both steps, with its header authentication.

A credit request (``{"form": ...}``) is answered ``OK`` with a request id; polling it
(``{"requestID": ...}``) answers ``WAIT`` ``waits`` times (default 1), then ``DONE``.
``POST /_emulator/waits {"waits": -1}`` keeps every request waiting. The decision: the test
persons (found by last name and birth date) are approved when their payday record is clean
(MFI score 150 or more, nothing overdue) and declined otherwise; anyone else, a thin file,
is approved for loans up to 3 000 only. A wrong ``password`` header, a missing field and an
unknown request id are answered ``ERROR``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from plugins.scoring.emulation import ProviderEmulator, TestPerson, find_person
from plugins.scoring.scorista.provider import password_for

THIN_FILE_LIMIT = Decimal("3000")


@dataclass
class CreditRequest:
    id: str
    person: TestPerson | None
    amount: Decimal
    polls: int = 0
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def error(code: int, message: str, details: str = "") -> dict[str, Any]:
    return {"status": "ERROR", "error": {"code": code, "message": message, "details": details}}


class ScoristaEmulator(ProviderEmulator):
    provider = "scorista"
    title = "Scorista"

    def __init__(self, *, username: str, token: str, waits: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.username = username
        self.token = token
        self.waits = waits
        self.requests: dict[str, CreditRequest] = {}

    def state(self) -> dict[str, Any]:
        return {"waits": self.waits, "requests": [{"id": r.id, "polls": r.polls, "known": r.person is not None}
                                                  for r in list(self.requests.values())[-50:]]}

    def reset(self) -> None:
        super().reset()
        self.requests.clear()
        self.waits = 1

    def authorised(self, request: Request[Any, Any, Any]) -> bool:
        nonce = request.headers.get("nonce", "")
        expected = password_for(nonce, self.token)
        return bool(nonce) and request.headers.get("username") == self.username and hmac.compare_digest(
            request.headers.get("password", ""), expected)

    def start(self, form: dict[str, Any]) -> dict[str, Any]:
        personal = ((form.get("persona") or {}).get("personalInfo") or {})
        loan = ((form.get("info") or {}).get("loan") or {})
        missing = [k for k in ("lastName", "firstName", "birthDate", "passportSN") if not personal.get(k)]
        missing += [k for k in ("loanSum", "loanPeriod") if not loan.get(k)]
        try:
            amount = Decimal(str(loan.get("loanSum", "")))
            born = dt.datetime.strptime(str(personal.get("birthDate", "")), "%d.%m.%Y").date().isoformat()
        except (InvalidOperation, ValueError):
            missing.append("loanSum or birthDate format")
        if missing:
            return error(400, "Validation error", f"missing or malformed: {', '.join(missing)}")
        person = find_person(last_name=str(personal["lastName"]), birth_date=born)
        request_id = f"agrid{secrets.token_hex(7)}"
        self.requests[request_id] = CreditRequest(request_id, person, amount)
        return {"status": "OK", "requestid": request_id}

    def answer(self, request_id: str) -> dict[str, Any]:
        found = self.requests.get(request_id)
        if found is None:
            return error(404, "Request not found", request_id)
        found.polls += 1
        if self.waits < 0 or found.polls <= self.waits:
            return {"status": "WAIT"}
        if found.person is None:
            approved, history_score, trust = found.amount <= THIN_FILE_LIMIT, None, 40
        else:
            h = found.person.history
            approved = h.mfi_score >= 150 and h.overdue == 0
            history_score, trust = found.person.fico, h.mfi_score // 3
        return {"status": "DONE", "data": {
            "decision": {"decisionBinnar": 1 if approved else 0, "decisionName": "Одобрено" if approved else "Отказ"},
            "additional": {"creditHistory": {"score": history_score}, "trustRating": {"score": trust},
                           "summary": {"thinFile": found.person is None}}}}

    def routes(self) -> list[Any]:
        emulator = self

        @post("/{product:str}/json", status_code=200)
        async def call(request: Request[Any, Any, Any], product: FromPath[str]) -> Response[Any]:
            if (disturbed := await emulator.disturbance()) is not None:
                emulator.record("call", "disturbed")
                return disturbed
            if not emulator.authorised(request):
                emulator.record("call", "refused")
                return Response(error(401, "Authorization failed", "check username, nonce and password"))
            try:
                body = json.loads(await request.body())
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("form"), dict):
                emulator.record("request", product)
                return Response(emulator.start(body["form"]))
            if isinstance(body, dict) and body.get("requestID"):
                emulator.record("poll", str(body["requestID"]))
                return Response(emulator.answer(str(body["requestID"])))
            emulator.record("call", "malformed")
            return Response(error(400, "Bad request", "expected 'form' or 'requestID'"))

        @post("/_emulator/waits", status_code=200)
        async def set_waits(request: Request[Any, Any, Any]) -> Response[Any]:
            try:
                emulator.waits = int(json.loads(await request.body())["waits"])
            except (ValueError, KeyError, TypeError):
                return Response({"detail": "send {\"waits\": n}, n = -1 for never"}, status_code=400)
            return Response({"waits": emulator.waits})

        return [call, set_waits]


def build_emulator(settings: Any, **options: Any) -> ScoristaEmulator:
    return ScoristaEmulator(username=settings.username, token=settings.token.get_secret_value(), **options)
