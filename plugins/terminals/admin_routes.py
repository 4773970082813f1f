"""Admin screens and admin API of the terminals plugin.

``/admin/terminals`` (every terminal: status, cash in the box, customer at it),
``/admin/terminals/new``, ``/admin/terminals/{id}`` (settings, device, faults and events,
sessions, unclaimed notes, collections; edit, new kiosk key, record a collection),
``/admin/terminals/collections[/{id}]`` (collection reports), ``/admin/terminals/{id}/emulator``
(sandbox); JSON under ``/api/v1/admin/terminals``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Request, get, patch, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field

from core.access import identity_of, requires
from core.access.approvals import Approvals
from core.money import Money, MoneyError
from core.users.service import Users
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.terminals import approvals, records, sandbox
from plugins.terminals.emulation import COMMANDS, run_command
from plugins.terminals.records import Refused
from plugins.terminals.routes import form_of, service

VIEW = requires("terminals.view")
MANAGE = requires("terminals.manage")
COLLECT = requires("terminals.collect")
ASSIGN = requires("terminals.assign")

EVENT_KINDS = ("stacked", "returned", "rejected", "fault", "state", "line")


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFoundException(_("no %(what)s %(key)s", what=what, key=str(value)[:40])) from None


def _form_terminal(form: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {k: form[k] for k in ("id", "title", "driver", "port", "location", "currency",
                                                "denominations") if k in form}
    if "active" in form or form.get("_has_active"):
        data["active"] = form.get("active") in ("1", "on", "true")
    return data


async def _customer(request: Request[Any, Any, Any], value: str) -> UUID:
    """A customer by e-mail, phone or id."""
    value = value.strip()
    users = request.app.state.platform.service(Users)
    try:
        return (await users.get(UUID(value))).id
    except (ValueError, NotFoundException):
        pass
    found = await users.find(value)
    if found is None:
        raise Refused(_("customer: no account with this e-mail, phone or id"))
    return found.id


# -- pages ----------------------------------------------------------------------------------------------------


@get("/admin/terminals", guards=[VIEW], include_in_schema=False, name="terminals-admin")
async def admin_list(request: Request[Any, Any, Any]) -> Template:
    return render(request, "terminals/admin/list.html", views=await service(request).overview())


@get("/admin/terminals/new", guards=[MANAGE], include_in_schema=False)
async def admin_new(request: Request[Any, Any, Any]) -> Template:
    terminals = service(request)
    return render(request, "terminals/admin/new.html", drivers=terminals.store.driver_names(),
                  currency=terminals.store.currency,
                  denominations=records.amounts([Money.of(d, terminals.store.currency)
                                                 for d in terminals.settings.denominations]),
                  sandbox=request.app.state.platform.core.platform.sandbox)


@post("/admin/terminals", guards=[MANAGE], include_in_schema=False, status_code=201)
async def admin_create(request: Request[Any, Any, Any]) -> Template:
    terminal, key = await service(request).store.create(_form_terminal(await form_of(request)),
                                                        actor=identity_of(request))
    return render(request, "terminals/admin/key.html", terminal=terminal, key=key, created=True, status_code=201)


@get("/admin/terminals/collections", guards=[VIEW], include_in_schema=False)
async def admin_collections(request: Request[Any, Any, Any]) -> Template:
    return render(request, "terminals/admin/collections.html",
                  collections=await service(request).encashment.list())


@get("/admin/terminals/collections/{collection_id:str}", guards=[VIEW], include_in_schema=False)
async def admin_collection(request: Request[Any, Any, Any], collection_id: FromPath[str]) -> Template:
    terminals = service(request)
    collection = await terminals.encashment.get(_uuid(collection_id, _("collection")))
    return render(request, "terminals/admin/collection.html", collection=collection,
                  terminal=await terminals.store.get(collection.terminal_id))


@get("/admin/terminals/{terminal_id:str}", guards=[VIEW], include_in_schema=False)
async def admin_detail(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Template:
    terminals = service(request)
    terminal = await terminals.store.get(terminal_id)
    kind = request.query_params.get("kind")
    kinds = (kind,) if kind in EVENT_KINDS else None
    notes_since, breakdown = await terminals.encashment.since_last(terminal.id)
    return render(request, "terminals/admin/detail.html", view=await terminals.view(terminal),
                  events=await terminals.crediting.events(terminal.id, kinds=kinds), kind=kind if kinds else "",
                  kinds=EVENT_KINDS, sessions=await terminals.deposits.of_terminal(terminal.id),
                  collections=await terminals.encashment.list(terminal.id, limit=10),
                  to_assign=await terminals.crediting.to_assign(terminal.id), drivers=terminals.store.driver_names(),
                  denominations=records.amounts(terminal.denominations), notes_since=notes_since,
                  breakdown=[(Money(d, terminal.currency), n) for d, n in breakdown.items()],
                  new_collection=uuid.uuid4(), emulator=sandbox.device(terminal.id) is not None,
                  done=request.query_params.get("done", ""))


@post("/admin/terminals/{terminal_id:str}", guards=[MANAGE], include_in_schema=False, status_code=303)
async def admin_update(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Redirect:
    form = await form_of(request)
    form["_has_active"] = "1"  # an unticked checkbox sends nothing
    terminal = await service(request).store.update(terminal_id, _form_terminal(form), actor=identity_of(request))
    return Redirect(f"/admin/terminals/{terminal.id}?done=saved", status_code=303)


@post("/admin/terminals/{terminal_id:str}/kiosk-key", guards=[MANAGE], include_in_schema=False, status_code=200)
async def admin_kiosk_key(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Template:
    terminals = service(request)
    key = await terminals.store.rotate_kiosk_key(terminal_id, actor=identity_of(request))
    return render(request, "terminals/admin/key.html", terminal=await terminals.store.get(terminal_id), key=key,
                  created=False)


@post("/admin/terminals/{terminal_id:str}/collections", guards=[COLLECT], include_in_schema=False,
      status_code=303)
async def admin_collect(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Redirect:
    form = await form_of(request)
    collection = await service(request).encashment.collect(
        terminal_id, collection_id=_uuid(form.get("collection_id", ""), _("collection")),
        collector=form.get("collector", ""), seal=form.get("seal", ""), note=form.get("note", ""),
        actor=identity_of(request))
    return Redirect(f"/admin/terminals/collections/{collection.id}", status_code=303)


@post("/admin/terminals/{terminal_id:str}/notes/{event:int}/assign", guards=[ASSIGN], include_in_schema=False,
      status_code=303)
async def admin_assign(request: Request[Any, Any, Any], terminal_id: FromPath[str], event: FromPath[int]) -> Redirect:
    terminals = service(request)
    terminal = await terminals.store.get(terminal_id)
    form = await form_of(request)
    payload: dict[str, Any] = {"event": event, "terminal": terminal.id,
                               "user_id": str(await _customer(request, form.get("customer", "")))}
    if form.get("amount", "").strip():
        try:
            amount = Money.of(Decimal(form["amount"].strip().replace(",", ".")), terminal.currency)
        except (InvalidOperation, MoneyError):
            raise Refused(_("amount: the note's value in %(currency)s, as counted", currency=terminal.currency)) \
                from None
        payload |= {"amount_minor": amount.minor, "currency": amount.currency}
    outcome = await request.app.state.platform.service(Approvals).perform(identity_of(request), approvals.ASSIGN,
                                                                         payload)
    return Redirect(f"/admin/terminals/{terminal.id}?done=assign-{outcome.status}", status_code=303)


@get("/admin/terminals/{terminal_id:str}/emulator", guards=[MANAGE], include_in_schema=False)
async def admin_emulator(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Template:
    terminal = await service(request).store.get(terminal_id)
    device = sandbox.device(terminal.id)
    if device is None:
        raise NotFoundException(_("no emulator runs for %(id)s in this process", id=terminal.id))
    return render(request, "terminals/admin/emulator.html", terminal=terminal, device=device, commands=COMMANDS,
                  said=request.query_params.get("said", ""))


@post("/admin/terminals/{terminal_id:str}/emulator", guards=[MANAGE], include_in_schema=False, status_code=303)
async def admin_emulator_command(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> Redirect:
    terminal = await service(request).store.get(terminal_id)
    device = sandbox.device(terminal.id)
    if device is None:
        raise NotFoundException(_("no emulator runs for %(id)s in this process", id=terminal.id))
    command = (await form_of(request)).get("command", "")[:100]
    said = run_command(device, command)
    return Redirect(f"/admin/terminals/{terminal.id}/emulator?said={quote(said[:300])}", status_code=303)


# -- admin API ----------------------------------------------------------------------------------------------------


class TerminalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=40, examples=["kiosk-01"])
    driver: str = Field(max_length=100, examples=["ccnet"])
    port: str = Field(max_length=500, examples=["/dev/ttyUSB0"])
    title: str = Field("", max_length=200)
    location: str = Field("", max_length=500, examples=["Moscow, Tverskaya 1, lobby"])
    currency: str | None = Field(None, max_length=3)
    denominations: list[str] | None = Field(None, max_length=24, examples=[["100", "500", "1000"]])
    active: bool = True


class TerminalPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    driver: str | None = Field(None, max_length=100)
    port: str | None = Field(None, max_length=500)
    title: str | None = Field(None, max_length=200)
    location: str | None = Field(None, max_length=500)
    currency: str | None = Field(None, max_length=3)
    denominations: list[str] | None = Field(None, max_length=24)
    active: bool | None = None


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    collection_id: UUID | None = Field(None, description="Your id for this collection: a retry records it once")
    collector: str = Field("", max_length=200)
    seal: str = Field("", max_length=100)
    note: str = Field("", max_length=2000)


async def terminal_json(request: Request[Any, Any, Any], terminal: records.TerminalRecord) -> dict[str, Any]:
    view = await service(request).view(terminal)
    return {"id": terminal.id, "title": terminal.title, "driver": terminal.driver, "port": terminal.port,
            "location": terminal.location, "currency": terminal.currency,
            "denominations": [str(d.amount) for d in terminal.denominations], "active": terminal.active,
            "status": terminal.status, "status_detail": terminal.status_detail, "online": view.online,
            "device_state": terminal.device_state, "device": dict(terminal.device_info),
            "last_seen_at": terminal.last_seen_at.isoformat() if terminal.last_seen_at else None,
            "cash_in_box": str(view.cash_in_box.amount), "unclaimed": str(view.unclaimed.amount),
            "session": view.session.as_json() if view.session else None}


@get("/api/v1/admin/terminals", guards=[VIEW], tags=["terminals admin"], summary="Every terminal and its state")
async def api_admin_list(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [await terminal_json(request, t) for t in await service(request).store.list()]


@post("/api/v1/admin/terminals", guards=[MANAGE], tags=["terminals admin"], status_code=201,
      summary="Register a terminal; the answer holds its kiosk key, shown this once")
async def api_admin_create(request: Request[Any, Any, Any], data: JSONBody[TerminalIn]) -> dict[str, Any]:
    given = {k: v for k, v in data.model_dump().items() if v is not None}
    terminal, key = await service(request).store.create(given, actor=identity_of(request))
    return await terminal_json(request, terminal) | {"kiosk_key": key}


@get("/api/v1/admin/terminals/{terminal_id:str}", guards=[VIEW], tags=["terminals admin"],
     summary="A terminal, its state and its latest events")
async def api_admin_get(request: Request[Any, Any, Any], terminal_id: FromPath[str]) -> dict[str, Any]:
    terminals = service(request)
    terminal = await terminals.store.get(terminal_id)
    events = await terminals.crediting.events(terminal.id, limit=50)
    return await terminal_json(request, terminal) | {"events": [e.as_json() for e in events]}


@patch("/api/v1/admin/terminals/{terminal_id:str}", guards=[MANAGE], tags=["terminals admin"],
       summary="Change a terminal (a new driver, port or currency makes the worker reopen its line)")
async def api_admin_update(request: Request[Any, Any, Any], terminal_id: FromPath[str],
                           data: JSONBody[TerminalPatch]) -> dict[str, Any]:
    given = {k: v for k, v in data.model_dump().items() if v is not None}
    terminal = await service(request).store.update(terminal_id, given, actor=identity_of(request))
    return await terminal_json(request, terminal)


@get("/api/v1/admin/terminals/{terminal_id:str}/events", guards=[VIEW], tags=["terminals admin"],
     summary="What the terminal's device and line reported, newest first")
async def api_admin_events(request: Request[Any, Any, Any], terminal_id: FromPath[str],
                           kind: FromQuery[str | None] = None, before: FromQuery[int | None] = None,
                           limit: FromQuery[int] = 100) -> list[dict[str, Any]]:
    if kind is not None and kind not in EVENT_KINDS:
        raise ValidationException(f"kind: one of {', '.join(EVENT_KINDS)}")
    terminals = service(request)
    terminal = await terminals.store.get(terminal_id)
    events = await terminals.crediting.events(terminal.id, kinds=(kind,) if kind else None,
                                              before_id=before if before and before > 0 else None, limit=limit)
    return [e.as_json() for e in events]


@post("/api/v1/admin/terminals/{terminal_id:str}/collections", guards=[COLLECT], tags=["terminals admin"],
      status_code=201, summary="Record a collection: the cash box's money moves to cash in transit")
async def api_admin_collect(request: Request[Any, Any, Any], terminal_id: FromPath[str],
                            data: JSONBody[CollectionIn]) -> dict[str, Any]:
    collection = await service(request).encashment.collect(
        terminal_id, collection_id=data.collection_id or uuid.uuid4(), collector=data.collector, seal=data.seal,
        note=data.note, actor=identity_of(request))
    return collection.as_json()


@get("/api/v1/admin/terminals/collections/{collection_id:str}", guards=[VIEW], tags=["terminals admin"],
     summary="A collection report")
async def api_admin_collection(request: Request[Any, Any, Any], collection_id: FromPath[str]) -> dict[str, Any]:
    return (await service(request).encashment.get(_uuid(collection_id, _("collection")))).as_json()


ADMIN_ROUTES = [
    admin_list, admin_new, admin_create, admin_collections, admin_collection, admin_detail, admin_update,
    admin_kiosk_key, admin_collect, admin_assign, admin_emulator, admin_emulator_command,
    api_admin_list, api_admin_create, api_admin_get, api_admin_update, api_admin_events, api_admin_collect,
    api_admin_collection,
]
