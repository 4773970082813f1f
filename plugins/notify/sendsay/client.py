"""A client of Sendsay's single RPC endpoint.

Every call is ``POST {api_url}{prefix}`` form-encoded: ``apiversion=100``, ``json=1``,
``request=<JSON with "action">`` and ``request.id``. The client

* logs in (``action=login`` ``{"login", "sublogin", "passwd"}`` -> ``{"session"}``) on first
  use and puts ``session`` into every later request;
* logs in again when a call answers ``error/auth/failed`` (the session expired);
* follows ``{"REDIRECT": "/<path>"}`` by repeating the call at ``api_url + path`` and keeps
  that path for later calls, as Sendsay's own clients do.

Answers with ``errors`` (or ``error``) raise :class:`SendsayError`; transport trouble
raises :class:`plugins.notify.provider.Transient`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from plugins.notify.provider import ProviderHttp, Transient, json_of

PRODUCTION_URL = "https://api.sendsay.ru"
AUTH_FAILED = "error/auth/failed"
#: Redirects and re-logins one call may go through before it gives up for now.
MAX_HOPS = 10


@dataclass(frozen=True)
class SendsayError(Exception):
    action: str
    errors: tuple[dict[str, Any], ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(str(e.get("id", "")) for e in self.errors)

    def __str__(self) -> str:
        said = "; ".join(f"{e.get('id', '?')}: {e.get('explain', '')}".rstrip(": ") for e in self.errors)
        return f"sendsay {self.action}: {said}"[:500]


def _errors(body: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(body, dict):
        return ({"id": "sendsay_api_client/not_an_object"},)
    found = body.get("errors") or ([body["error"]] if body.get("error") else [])
    return tuple(e if isinstance(e, dict) else {"id": str(e)} for e in found)


class SendsayClient:
    def __init__(self, http: ProviderHttp, login: str, sublogin: str, password: str) -> None:
        self.http = http
        self.login_name = login
        self.sublogin = sublogin or login
        self._password = password
        self.session: str | None = None
        #: The path Sendsay redirected us to (an account's own server), kept for later calls.
        self.prefix = ""
        self._login_lock = asyncio.Lock()

    async def call(self, action: str, params: dict[str, Any] | None = None, *, request_id: str | None = None
                   ) -> dict[str, Any]:
        relogged = False
        for _hop in range(MAX_HOPS):
            payload = {**(params or {}), "action": action}
            if action != "login":
                payload["session"] = self.session or await self._log_in()
            body = await self._post(payload, request_id)
            errors = _errors(body)
            if errors:
                expired = action != "login" and any(e.get("id") == AUTH_FAILED for e in errors)
                if expired and not relogged:
                    relogged = True
                    self.session = None
                    continue
                raise SendsayError(action, errors)
            if "REDIRECT" in body:
                self.prefix = "/" + str(body["REDIRECT"]).strip("/")
                continue
            return body
        raise Transient(f"sendsay {action}: more than {MAX_HOPS} redirects")

    async def _log_in(self) -> str:
        async with self._login_lock:
            if self.session is None:
                body = await self.call("login", {"login": self.login_name, "sublogin": self.sublogin,
                                                 "passwd": self._password})
                if not body.get("session"):
                    raise Transient("sendsay login: an answer without a session")
                self.session = str(body["session"])
            return self.session

    async def _post(self, payload: dict[str, Any], request_id: str | None) -> Any:
        form = {"apiversion": "100", "json": "1", "request": json.dumps(payload, ensure_ascii=False),
                "request.id": request_id or str(uuid.uuid4())}
        response = await self.http.request("POST", self.prefix or "/", data=form)
        return json_of(response, "sendsay")
