"""The kiosk screen next to the bill validator, and its API for kiosk software.

The screen is a browser in kiosk mode at ``/terminals/kiosk/<terminal>``. The first time, the
installer types the terminal's kiosk key (shown once when the terminal was registered): it
is kept in a cookie for that path. Then the screen asks customers for their deposit code,
shows the notes going in, and ends the session when they press "Finish" (it refreshes
itself every few seconds; no script needed).

Kiosk software can do the same over JSON with the key in ``X-Kiosk-Key``:
``POST /api/v1/terminals/kiosk/<terminal>/sessions`` ``{"code": "123456"}``,
``GET .../sessions/current``, ``POST .../sessions/current/finish``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field

from core.users.service import Users
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.terminals import records
from plugins.terminals.records import Conflict, Refused, SessionRecord, TerminalRecord
from plugins.terminals.routes import form_of, service

KEY_HEADER = "x-kiosk-key"
#: The screen reloads itself this often while a customer is at it.
REFRESH_S = 3


def cookie_name(terminal_id: str) -> str:
    return f"kiosk_{terminal_id.replace('-', '_')}"


def kiosk_path(terminal_id: str) -> str:
    return f"/terminals/kiosk/{terminal_id}"


async def _terminal(request: Request[Any, Any, Any], terminal_id: str) -> TerminalRecord:
    return await service(request).store.get(records.terminal_id(terminal_id))


async def _key_valid(request: Request[Any, Any, Any], terminal: TerminalRecord, key: str | None) -> bool:
    return await service(request).store.kiosk_key_valid(terminal.id, key)


async def _customer_name(request: Request[Any, Any, Any], session: SessionRecord) -> str:
    """The first word of the customer's name: enough to see it is theirs, not enough for a passer-by."""
    user = await request.app.state.platform.service(Users).get(session.user_id)
    return user.name.split()[0] if user.name else ""


def _to_screen(terminal_id: str, **query: str) -> Redirect:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    return Redirect(kiosk_path(terminal_id) + suffix, status_code=303)


@get("/terminals/kiosk/{terminal_id:str}", include_in_schema=False)
async def kiosk_screen(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Template:
    terminal = await _terminal(request, terminal_id)
    if not await _key_valid(request, terminal, request.cookies.get(cookie_name(terminal.id))):
        return render(request, "terminals/kiosk.html", terminal=terminal, screen="key")
    terminals = service(request)
    session = await terminals.deposits.current(terminal.id)
    done_id = request.query_params.get("done", "")
    finished = None
    if session is None and done_id:
        latest = await terminals.deposits.latest(terminal.id)
        finished = latest if latest and str(latest.id) == done_id else None
    return render(request, "terminals/kiosk.html", terminal=terminal, session=session, finished=finished,
                  screen="session" if session else "code", working=terminals.online(terminal)
                  and terminal.status == "online", refresh_s=REFRESH_S,
                  customer=await _customer_name(request, session) if session else "",
                  error=request.query_params.get("error", ""), takes=records.amounts(terminal.denominations))


@post("/terminals/kiosk/{terminal_id:str}/key", include_in_schema=False, status_code=303)
async def kiosk_key(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Response[Any]:
    terminal = await _terminal(request, terminal_id)
    key = (await form_of(request)).get("key", "").strip()
    if not await _key_valid(request, terminal, key):
        return render(request, "terminals/kiosk.html", terminal=terminal, screen="key", error="key", status_code=401)
    secure = request.app.state.platform.core.web.cookie_secure
    return Redirect(kiosk_path(terminal.id), status_code=303, cookies=[
        Cookie(key=cookie_name(terminal.id), value=key, path=kiosk_path(terminal.id), httponly=True,
               samesite="strict", secure=secure, max_age=400 * 24 * 3600)])


async def _kiosk_terminal(request: Request[Any, Any, Any], terminal_id: str) -> TerminalRecord:
    """The terminal, if the request carries its kiosk key (cookie or header)."""
    terminal = await _terminal(request, terminal_id)
    key = request.headers.get(KEY_HEADER) or request.cookies.get(cookie_name(terminal.id))
    if not await _key_valid(request, terminal, key):
        raise NotAuthorizedException(_("this needs the terminal's kiosk key"))
    return terminal


@post("/terminals/kiosk/{terminal_id:str}/code", include_in_schema=False, status_code=303)
async def kiosk_code(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Redirect:
    """Back to the screen either way: a kiosk has no back button. The screen words the refusal
    from a fixed list, so nothing typed at the kiosk is ever shown there."""
    terminal = await _kiosk_terminal(request, terminal_id)
    try:
        await service(request).deposits.start(terminal, (await form_of(request)).get("code", ""))
    except TooManyRequestsException:
        return _to_screen(terminal.id, error="attempts")
    except PermissionDeniedException:
        return _to_screen(terminal.id, error="account")
    except Conflict:
        return _to_screen(terminal.id, error="unavailable")
    except Refused:
        return _to_screen(terminal.id, error="code")
    return _to_screen(terminal.id)


@post("/terminals/kiosk/{terminal_id:str}/finish", include_in_schema=False, status_code=303)
async def kiosk_finish(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Redirect:
    terminal = await _kiosk_terminal(request, terminal_id)
    ended = await service(request).deposits.finish(terminal.id)
    return _to_screen(terminal.id, done=str(ended.id)) if ended else _to_screen(terminal.id)


# -- the kiosk API ---------------------------------------------------------------------------------------


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=20, examples=["482913"])


@post("/api/v1/terminals/kiosk/{terminal_id:str}/sessions", tags=["terminals kiosk"], status_code=201,
      summary="A customer typed their deposit code: the terminal takes their notes (X-Kiosk-Key)")
async def api_start(request: Request[Any, Any, Any], terminal_id: FromPath[str], data: JSONBody[CodeIn]) -> dict[str, Any]:
    terminal = await _kiosk_terminal(request, terminal_id)
    session = await service(request).deposits.start(terminal, data.code)
    return session.as_json()


@get("/api/v1/terminals/kiosk/{terminal_id:str}/sessions/current", tags=["terminals kiosk"],
     summary="The customer's session at the terminal and what they have put in (X-Kiosk-Key)")
async def api_current(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> dict[str, Any]:
    terminal = await _kiosk_terminal(request, terminal_id)
    session = await service(request).deposits.current(terminal.id)
    return {"session": session.as_json() if session else None}


@post("/api/v1/terminals/kiosk/{terminal_id:str}/sessions/current/finish", tags=["terminals kiosk"],
      status_code=200, summary="The customer is done: the terminal stops taking notes (X-Kiosk-Key)")
async def api_finish(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> dict[str, Any]:
    terminal = await _kiosk_terminal(request, terminal_id)
    ended = await service(request).deposits.finish(terminal.id)
    return {"session": ended.as_json() if ended else None}


ROUTES = [kiosk_screen, kiosk_key, kiosk_code, kiosk_finish, api_start, api_current, api_finish]
