"""The customer's side: where to deposit cash, the deposit code, and what was deposited.

Pages: ``/terminals`` (sign-in required) and ``POST /terminals/code`` (shows a new code).
API: ``GET /api/v1/terminals`` (anyone: where the terminals are and whether they work),
``POST /api/v1/terminals/deposit-codes``, ``GET /api/v1/terminals/deposits`` (sign-in).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Template

from core.access import identity_of, requires_login
from core.web.templating import render
from plugins.terminals.service import Terminals


def service(request: Request[Any, Any, Any]) -> Terminals:
    return request.app.state.platform.service(Terminals)


def user_id(request: Request[Any, Any, Any]) -> UUID:
    identity = identity_of(request)
    assert identity.user_id is not None  # guarded by requires_login
    return identity.user_id


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v.replace("\x00", "") for k, v in form.items() if isinstance(v, str)}


async def _public_terminals(terminals: Terminals) -> list[dict[str, Any]]:
    return [{"id": t.id, "title": t.name, "location": t.location, "currency": t.currency,
             "denominations": [str(d.amount) for d in t.denominations], "working": terminals.online(t)
             and t.status == "online"}
            for t in await terminals.store.list(active=True)]


async def _page(request: Request[Any, Any, Any], code: str | None = None,
                expires_at: dt.datetime | None = None) -> Template:
    terminals = service(request)
    me = user_id(request)
    return render(request, "terminals/deposit.html", code=code, expires_at=expires_at,
                  active_until=None if code else await terminals.deposits.active_code_expiry(me),
                  terminals=await _public_terminals(terminals), deposits=await terminals.deposits.of_user(me),
                  ttl_minutes=terminals.settings.deposit_code_ttl_s // 60)


@get("/terminals", guards=[requires_login], include_in_schema=False, name="terminals.deposit")
async def deposit_page(request: Request[Any, Any, Any]) -> Template:
    return await _page(request)


@post("/terminals/code", guards=[requires_login], include_in_schema=False, status_code=200)
async def new_code(request: Request[Any, Any, Any]) -> Template:
    """Shown once: only its hash is kept, so the page that asks for it is the page that shows it."""
    code, expires_at = await service(request).deposits.issue_code(user_id(request))
    return await _page(request, code, expires_at)


@get("/api/v1/terminals", tags=["terminals"], summary="Cash terminals: where they are and what they take")
async def api_terminals(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return await _public_terminals(service(request))


@post("/api/v1/terminals/deposit-codes", guards=[requires_login], tags=["terminals"], status_code=201,
      summary="A new deposit code to type at a terminal (earlier ones stop working)")
async def api_new_code(request: Request[Any, Any, Any]) -> dict[str, Any]:
    code, expires_at = await service(request).deposits.issue_code(user_id(request))
    return {"code": code, "expires_at": expires_at.isoformat()}


@get("/api/v1/terminals/deposits", guards=[requires_login], tags=["terminals"],
     summary="Your deposits at terminals, newest first")
async def api_deposits(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [s.as_json() for s in await service(request).deposits.of_user(user_id(request))]


ROUTES = [deposit_page, new_code, api_terminals, api_new_code, api_deposits]
