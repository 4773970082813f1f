"""UBKI (Українське бюро кредитних історій): the session key and the report request.

The session key is asked for once a day (``POST {api_url}/auth``) and kept until it
expires at the end of the day, or until UBKI says it has ("Security error. The lifetime
of the session key expired."): then the provider logs in again and repeats the request
once. A report is ``POST {api_url}/xml``; what comes back is read by :mod:`.protocol`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
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
from plugins.scoring.ubki import protocol
from plugins.scoring.wire import Wire

PRODUCTION_API = "https://secure.ubki.ua/b2_api_xml/ubki"
TEST_API = "https://test.ubki.ua/b2_api_xml/ubki"
#: A key is renewed this long before UBKI's stated expiry, so a request never races it.
EXPIRY_MARGIN = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    key: str
    expires_at: dt.datetime


class UbkiProvider(ProviderDefaults):
    name = "ubki"
    title = "UBKI"

    def __init__(
        self,
        *,
        login: str,
        password: str,
        api_url: str = PRODUCTION_API,
        report_type: str = protocol.CREDIT_REPORT,
        reason: str = "2",
        language: str = "1",
        timeout_s: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.login = login
        self.password = password
        self.api_url = api_url.rstrip("/")
        self.report_type = report_type
        self.reason = reason
        self.language = language
        self.wire = Wire(self.name, timeout_s, transport)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._session: Session | None = None
        self._lock = asyncio.Lock()

    # -- the session key ------------------------------------------------------------------------

    async def session_key(self, *, stale: str | None = None) -> str | ScoringResult:
        """The day's key; a new one when there is none, it expired, or it is ``stale`` (refused)."""
        async with self._lock:
            current = self._session
            if current is not None and current.key != stale and self.clock() < current.expires_at - EXPIRY_MARGIN:
                return current.key
            answer = await self.wire.post_json(f"{self.api_url}/auth", protocol.auth_document(self.login,
                                                                                                self.password))
            if isinstance(answer, ScoringResult):
                return answer
            data, raw = answer
            auth = protocol.auth_block(data)
            errcode = str(auth.get("errcode") or "").strip()
            key = str(auth.get("sessid") or "").strip()
            if (errcode and errcode != "0") or not key:
                reason = auth.get("errtext") or auth.get("errtextclient") or f"HTTP {raw.status_code}, no session key"
                retryable = raw.status_code >= 500
                return self.wire.failure(AUTH_FAILED, f"UBKI refused the login: {reason}", retryable=retryable)
            self._session = Session(key, protocol.session_expiry(str(auth.get("dateed") or ""), self.clock()))
            return key

    # -- the report -----------------------------------------------------------------------------

    async def score(self, request: ScoringRequest) -> ScoringResult:
        if problem := protocol.check_applicant(request.applicant):
            return self.error(INVALID_REQUEST, problem)
        report_type = request.report_type or self.report_type
        if report_type not in protocol.REPORT_TYPES:
            return self.error(INVALID_REQUEST, f"UBKI report type {report_type!r} is not one this plugin reads "
                                               f"({', '.join(protocol.REPORT_TYPES)})")
        key = await self.session_key()
        if isinstance(key, ScoringResult):
            return key
        for attempt in (1, 2):
            document = protocol.report_document(key, request.applicant, report_type=report_type, reason=self.reason,
                                                language=self.language)
            answer = await self.wire.post_json(f"{self.api_url}/xml", document)
            if isinstance(answer, ScoringResult):
                return answer
            data, raw = answer
            root = protocol.ubkidata(data)
            if root is None:
                return self.wire.failure(UNREADABLE, f"UBKI answered HTTP {raw.status_code} without 'ubkidata'",
                                         document=raw.text)
            errtype, errtext = protocol.error_of(root)
            if errtype and protocol.is_session_error(errtext) and attempt == 1:
                key = await self.session_key(stale=key)
                if isinstance(key, ScoringResult):
                    return key
                continue
            return self.read_report(root, raw.text, report_type)
        raise AssertionError("unreachable")  # pragma: no cover

    def read_report(self, root: dict[str, Any], text: str, report_type: str) -> ScoringResult:
        reference = protocol.request_id_of(root)
        errtype, errtext = protocol.error_of(root)
        if errtype:
            # UBKI's own refusals (bad request, no access to the report type, balance exhausted).
            return ScoringResult(ScoringStatus.ERROR, self.name, report_ref=reference, error_code=f"ubki_{errtype}",
                                 error=errtext or f"UBKI error {errtype}", document=text,
                                 retryable=protocol.is_session_error(errtext))
        found = protocol.blocks(root)
        details: dict[str, Any] = {"report_type": report_type}
        factors: dict[str, Any] = {}
        fico = found.get("scorefico") if isinstance(found.get("scorefico"), dict) else None
        mfo = found.get("scoremfo") if isinstance(found.get("scoremfo"), dict) else None
        if fico:
            fico_score = protocol.integer(fico.get("Score"))
            details["fico"] = {"score": fico_score, "reasons": [fico[k] for k in sorted(fico)
                                                                  if k.startswith("ReasonCode") and fico[k]]}
            if fico_score:
                factors["fico.score"] = fico_score
        if mfo:
            details["mfo"] = {"score": mfo.get("scoremfo"), "date": mfo.get("scoremfodate")}
            if (mfo_score := protocol.integer(mfo.get("scoremfo"))) is not None:
                factors["mfo.score"] = mfo_score
        if isinstance(found.get("attributes"), dict):
            factors.update(protocol.mfo_factors(found["attributes"]))
            details["mfo_attributes"] = found["attributes"]
        deals = [d for d in protocol.as_list(found.get("crdeal")) if isinstance(d, dict)]
        if deals:
            details["deals"] = deals
            factors["deals.count"] = len(deals)
        score = factors.get("fico.score") if report_type == protocol.FICO_SCORE else factors.get("mfo.score")
        no_history = not found or (report_type == protocol.FICO_SCORE and not factors.get("fico.score"))
        status = ScoringStatus.NO_DATA if no_history else ScoringStatus.DONE
        return ScoringResult(status, self.name, score=score if status is ScoringStatus.DONE else None,
                             report_ref=reference, details=details, factors=factors, document=text)
