"""An emulator of Sendsay's RPC endpoint: ``POST /`` and the account's own ``POST /<shard>``.

Each call is form-encoded (``apiversion=100``, ``json=1``, ``request=<JSON>``,
``request.id``); anything else is answered with ``errors`` as Sendsay does (HTTP 200).

* A call to ``/`` is answered ``{"REDIRECT": "/<shard>"}`` (with ``redirect`` on): the client
  must repeat it there. ``paths`` records where each call arrived.
* ``login`` ``{"login", "sublogin", "passwd"}`` -> ``{"session"}``; wrong credentials ->
  ``error/auth/failed``. Other actions need a live ``session``, else ``error/auth/failed``
  ``expired``; :meth:`SendsayEmulator.expire_sessions` ends them all.
* ``issue.send`` checks the letter (``subject``, ``from.email``, ``message.html`` or ``text``)
  and the recipient (``users.list``, or ``email`` for personal sends) and keeps the e-mail:
  ``{"track.id": ...}``. ``track.get`` -> ``{"obj": {"id", "status": -1}}``; ``ping`` -> ``{"pong"}``.

Failure modes: see :mod:`plugins.notify.emulation` (``rejected`` answers ``issue.send``
with ``error/letter/recipient``).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from litestar import Request, Response, post
from litestar.params import FromPath

from plugins.notify.emulation import Failure, MessagingEmulator

SANDBOX_LOGIN = "sandbox"
SANDBOX_PASSWORD = "sendsay-sandbox-password"
SHARD = "general"


def _errors(error_id: str, explain: str = "") -> Response[dict[str, Any]]:
    return Response({"errors": [{"id": error_id, "explain": explain}]}, status_code=200)


class SendsayEmulator(MessagingEmulator):
    provider = "sendsay"

    def __init__(self, login: str = SANDBOX_LOGIN, password: str = SANDBOX_PASSWORD, *, sublogin: str = "",
                 redirect: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.login, self.sublogin, self.password = login, sublogin or login, password
        self.redirect = redirect
        self.sessions: set[str] = set()
        self.paths: list[tuple[str, str]] = []  # (path, action)

    @classmethod
    def for_settings(cls, settings: Any) -> SendsayEmulator:
        password = settings.password.get_secret_value() if settings.password else SANDBOX_PASSWORD
        return cls(settings.login or SANDBOX_LOGIN, password, sublogin=settings.sublogin)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    async def answer(self, path: str, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        form = await request.form()
        try:
            payload = json.loads(form.get("request") or "")
        except ValueError:
            payload = None
        if form.get("apiversion") != "100" or form.get("json") != "1" or not isinstance(payload, dict):
            return _errors("error/request/invalid", "apiversion=100, json=1 and a JSON request are required")
        action = str(payload.get("action", ""))
        self.paths.append((path, action))
        if path == "/" and self.redirect:
            return Response({"REDIRECT": f"/{SHARD}"})
        await self.injected_failure()
        if action == "login":
            return self._login(payload)
        if payload.get("session") not in self.sessions:
            return _errors("error/auth/failed", "expired")
        if action == "issue.send":
            return await self._issue_send(payload)
        if action == "track.get":
            return Response({"obj": {"id": payload.get("id"), "status": -1}})
        if action == "ping":
            return Response({"pong": "pong"})
        return _errors("error/action/unknown", action)

    def _login(self, payload: dict[str, Any]) -> Response[dict[str, Any]]:
        given = (payload.get("login"), payload.get("sublogin") or payload.get("login"), payload.get("passwd"))
        if given != (self.login, self.sublogin, self.password):
            return _errors("error/auth/failed", "wrong login or password")
        session = secrets.token_hex(16)
        self.sessions.add(session)
        return Response({"session": session})

    async def _issue_send(self, payload: dict[str, Any]) -> Response[dict[str, Any]]:
        letter = payload.get("letter")
        if not isinstance(letter, dict) or not isinstance(letter.get("message"), dict):
            return _errors("error/letter/invalid", "letter.message is required")
        body = letter["message"]
        if not letter.get("subject") or not letter.get("from.email") or not (body.get("html") or body.get("text")):
            return _errors("error/letter/invalid", "subject, from.email and message.html or text are required")
        to = payload.get("users.list") or payload.get("email")
        if not isinstance(to, str) or "@" not in to or payload.get("sendwhen") not in ("now", "later", "delay"):
            return _errors("error/request/invalid", "users.list (or email) and sendwhen are required")
        if self.failure is Failure.REJECTED:
            return _errors("error/letter/recipient", f"{to}: the address does not accept mail")
        kept = self.keep("email", to, str(body.get("text") or body.get("html")), subject=letter["subject"],
                         sender=letter["from.email"], request={k: v for k, v in payload.items() if k != "session"})
        return Response({"track.id": kept.id.rsplit("-", 1)[1]})

    def routes(self) -> list[Any]:
        emulator = self

        @post("/", status_code=200)
        async def root(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.answer("/", request)

        @post("/{shard:str}", status_code=200)
        async def shard(shard: FromPath[str], request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            return await emulator.answer(f"/{shard}", request)

        return [root, shard]
