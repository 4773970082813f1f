"""The tax service's "Узнать ИНН" (service.nalog.ru/inn.do), spoken the way its web form speaks it.

There is no official API: this is the AJAX protocol of the public form. Each conversation
starts with ``GET /inn.do`` for the session cookies, then:

1. ``POST /inn-new-proc.do`` (form-encoded, ``X-Requested-With: XMLHttpRequest``) with
   ``c=find``, the person (``fam``, ``nam``, ``otch`` or ``opt_otch=1``, ``bdate``) and the
   document (``doctype=21`` for a Russian passport, ``docno="SS SS NNNNNN"``, ``docdt``).
   The answer is ``{"requestId": ..., "captchaRequired": false}``, or
   ``{"captchaRequired": true}``, or field errors ``{"ERRORS": {...}, "STATUS": 400}``, or
   ``{"ERROR": "...", "STATUS": ...}``.
2. ``POST /inn-new-proc.json`` with ``c=get&requestId=...``: ``{"state": 1, "inn": "..."}``
   when found; a negative ``state`` while the service is still looking; ``state`` 0 or 1
   without ``inn``, or an ``error_code``, when there is no such taxpayer;
   ``{"ERROR": "Недопустимый идентификатор запроса"}`` once the request id has expired.

Every answer is turned into an :class:`FnsAnswer`; nothing here raises for what the
service (or the network) does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from core.contracts.kyc import PASSPORT, KycSubject

log = logging.getLogger("kopilka.kyc.itn")

PRODUCTION_URL = "https://service.nalog.ru"
FIND_PATH = "/inn-new-proc.do"
GET_PATH = "/inn-new-proc.json"
PAGE_PATH = "/inn.do"
RUSSIAN_PASSPORT = "21"
EXPIRED_REQUEST = "Недопустимый идентификатор запроса"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) kopilka-kyc"


class Outcome(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    PROCESSING = "processing"      # ask again with the request id
    REFUSED = "refused"            # the service did not accept the data (field errors)
    CAPTCHA = "captcha"            # the service wants a person to solve a captcha: too many requests
    THROTTLED = "throttled"        # HTTP 429
    EXPIRED = "expired"            # the request id is no longer known: start again
    UNAVAILABLE = "unavailable"    # network trouble, 5xx, an answer that is not the protocol


@dataclass(frozen=True)
class FnsAnswer:
    outcome: Outcome
    inn: str = ""
    request_id: str = ""
    errors: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    retry_after_s: int | None = None


def ru_date(value: dt.date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def find_form(subject: KycSubject) -> dict[str, str]:
    """The ``c=find`` form for a person and their Russian passport."""
    passport = subject.document(PASSPORT)
    assert passport is not None, "the ITN lookup needs the passport"
    n = passport.number
    form = {
        "c": "find",
        "fam": subject.last_name,
        "nam": subject.first_name,
        "otch": subject.middle_name,
        "bdate": ru_date(subject.birth_date),
        "doctype": RUSSIAN_PASSPORT,
        "docno": f"{n[:2]} {n[2:4]} {n[4:]}",
        "docdt": ru_date(passport.issued_on),
        "captcha": "",
        "captchaToken": "",
    }
    if not subject.middle_name:
        form["opt_otch"] = "1"
    return form


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


class FnsClient:
    def __init__(self, base_url: str, *, timeout_s: float = 10, first_poll_delay_s: float = 0.5,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.first_poll_delay_s = first_poll_delay_s
        self.transport = transport

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout_s,
            transport=self.transport,
            headers={"User-Agent": USER_AGENT, "Referer": f"{self.base_url}{PAGE_PATH}"},
            follow_redirects=False,
        )

    async def find(self, subject: KycSubject) -> FnsAnswer:
        """Ask for the person's ITN; then ask once for the answer, which is often ready at once."""
        try:
            async with self._http() as http:
                opened = await self._open(http)
                if opened is not None:
                    return opened
                response = await self._post(http, FIND_PATH, find_form(subject))
                answer = self._read_find(response)
                if answer.outcome is not Outcome.PROCESSING:
                    return answer
                if self.first_poll_delay_s:
                    await asyncio.sleep(self.first_poll_delay_s)
                return self._read_get(await self._post(http, GET_PATH, {"c": "get", "requestId": answer.request_id}),
                                      answer.request_id)
        except httpx.HTTPError as exc:
            return FnsAnswer(Outcome.UNAVAILABLE, message=f"{type(exc).__name__}: {exc}"[:300])

    async def get(self, request_id: str) -> FnsAnswer:
        """Ask for the answer to an earlier request."""
        try:
            async with self._http() as http:
                opened = await self._open(http)
                if opened is not None:
                    return opened
                return self._read_get(await self._post(http, GET_PATH, {"c": "get", "requestId": request_id}),
                                      request_id)
        except httpx.HTTPError as exc:
            return FnsAnswer(Outcome.UNAVAILABLE, message=f"{type(exc).__name__}: {exc}"[:300])

    # -- the conversation ---------------------------------------------------------------------------

    async def _open(self, http: httpx.AsyncClient) -> FnsAnswer | None:
        """The form's page, for its session cookies; an answer only when it failed."""
        response = await http.get(PAGE_PATH)
        if response.status_code != 200:
            return self._http_trouble(response)
        return None

    async def _post(self, http: httpx.AsyncClient, path: str, form: dict[str, str]) -> httpx.Response:
        return await http.post(path, data=form, headers={"X-Requested-With": "XMLHttpRequest",
                                                         "Accept": "application/json, text/javascript, */*"})

    def _http_trouble(self, response: httpx.Response) -> FnsAnswer:
        if response.status_code == 429:
            return FnsAnswer(Outcome.THROTTLED, message="HTTP 429", retry_after_s=_retry_after(response))
        return FnsAnswer(Outcome.UNAVAILABLE, message=f"HTTP {response.status_code}",
                         retry_after_s=_retry_after(response))

    def _json(self, response: httpx.Response) -> dict[str, Any] | FnsAnswer:
        if response.status_code == 429 or response.status_code >= 500:
            return self._http_trouble(response)
        try:
            body = response.json()
        except ValueError:
            return FnsAnswer(Outcome.UNAVAILABLE, message=f"HTTP {response.status_code}: not JSON")
        if not isinstance(body, dict):
            return FnsAnswer(Outcome.UNAVAILABLE, message="the answer is not a JSON object")
        return body

    def _read_find(self, response: httpx.Response) -> FnsAnswer:
        body = self._json(response)
        if isinstance(body, FnsAnswer):
            return body
        if body.get("captchaRequired"):
            return FnsAnswer(Outcome.CAPTCHA, message="captchaRequired")
        if isinstance(body.get("ERRORS"), dict) and body["ERRORS"]:
            return FnsAnswer(Outcome.REFUSED, errors=body["ERRORS"])
        if body.get("ERROR"):
            return FnsAnswer(Outcome.UNAVAILABLE, message=str(body["ERROR"])[:300])
        request_id = body.get("requestId")
        if isinstance(request_id, str) and request_id:
            return FnsAnswer(Outcome.PROCESSING, request_id=request_id)
        return FnsAnswer(Outcome.UNAVAILABLE, message=f"unexpected answer to find: {sorted(body)}")

    def _read_get(self, response: httpx.Response, request_id: str) -> FnsAnswer:
        body = self._json(response)
        if isinstance(body, FnsAnswer):
            return body
        if body.get("ERROR"):
            if str(body["ERROR"]).strip() == EXPIRED_REQUEST:
                return FnsAnswer(Outcome.EXPIRED, request_id=request_id, message=EXPIRED_REQUEST)
            return FnsAnswer(Outcome.UNAVAILABLE, message=str(body["ERROR"])[:300])
        inn = str(body.get("inn") or "").strip()
        state = body.get("state")
        if inn.isdigit() and state in (0, 1, None):
            return FnsAnswer(Outcome.FOUND, inn=inn, request_id=request_id)
        if "error_code" in body or state in (0, 1):
            return FnsAnswer(Outcome.NOT_FOUND, request_id=request_id)
        if isinstance(state, int | float) and state < 0:
            return FnsAnswer(Outcome.PROCESSING, request_id=request_id)
        return FnsAnswer(Outcome.UNAVAILABLE, message=f"unexpected answer to get: {sorted(body)}")
