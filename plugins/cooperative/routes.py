"""The cooperative on the web: the open queue and pool, joining, contributing, my membership, the back office.

Pages under ``/cooperative/`` and ``/admin/cooperative/``; every action is also JSON under
``/api/v1/cooperative/`` and ``/api/v1/admin/cooperative/`` (one handler serves both: a form post
is answered with a redirect to the page, a JSON call with the record).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from core.access import identity_of, requires, requires_login
from core.projects import forms
from core.projects.errors import Invalid, NotFound
from core.web.templating import render
from plugins.cooperative.programs import CODE, member_label, program_fields, program_json, rules_of, text
from plugins.cooperative.queue import months_to_eligibility
from plugins.cooperative.service import CooperativeService

TAGS = ["cooperative"]
ADMIN_TAGS = ["cooperative admin"]


def service_of(request: Request[Any, Any, Any]) -> CooperativeService:
    return request.app.state.platform.service(CooperativeService)


def user_of(request: Request[Any, Any, Any]) -> uuid.UUID:
    user_id = identity_of(request).user_id
    assert user_id is not None  # guarded by requires_login
    return user_id


def code_of(code: str) -> str:
    if not CODE.match(code):
        raise NotFound(f"no cooperative program {code!r}")
    return code


def key_of(fields: dict[str, Any]) -> str:
    key = text(fields.get("idempotency_key"), "idempotency_key", 100)
    if not key:
        raise Invalid("required: the same key for a retry of the same payment", field="idempotency_key")
    return key


def queue_json(places: list[Any], currency: str, me: uuid.UUID | None = None) -> list[dict[str, Any]]:
    return [{"rank": p["rank"], "member": member_label(p["member_id"]), "score": str(p["score"]),
             "balance_minor": p["balance_minor"], "eligible": p["eligible"], "allotted": p["allotted"],
             **({"you": True} if me is not None and p["member_id"] == me else {})} for p in places]


def valuation_json(v: Any) -> dict[str, Any]:
    return {"id": str(v["id"]), "valuation_date": v["valuation_date"].isoformat(), "cash_minor": v["cash_minor"],
            "liabilities_minor": v["liabilities_minor"], "available_minor": v["available_minor"],
            "allotted_minor": v["allotted_minor"], "allotted_count": v["allotted_count"],
            **({"program": v["code"]} if "code" in v.keys() else {})}


async def program_view(request: Request[Any, Any, Any], code: str) -> dict[str, Any]:
    """The public transparency view of a program: parameters, pool state, the last published queue."""
    service = service_of(request)
    program = await service.program(code_of(code))
    valuation = await service.latest_valuation(program)
    places = await service.queue_of(valuation["id"]) if valuation else []
    return {**program_json(program), "pool": await service.pool_state(program),
            "valuation": valuation_json(valuation) if valuation else None,
            "queue": queue_json(places, program["currency"])}


def action(page_path: str, api_path: str, fn: forms.ActionFn, **route: Any) -> Any:
    return forms.action(page_path, api_path, fn, name="cooperative_" + fn.__name__.strip("_"), **route)


# -- public: programs, queue, pool ------------------------------------------------------------------


@get("/api/v1/cooperative/programs", tags=TAGS, summary="The cooperative's programs")
async def programs_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [program_json(p) for p in await service_of(request).programs(active_only=True)]


@get("/api/v1/cooperative/programs/{code:str}", tags=TAGS,
     summary="A program with its pool state and the last published queue (rank, masked member, score)")
async def program_api(request: Request[Any, Any, Any], code: FromPath[str]) -> dict[str, Any]:
    return await program_view(request, code)


async def forecast(request: Request[Any, Any, Any], code: str, params: dict[str, Any]) -> dict[str, Any]:
    """Months of saving ``monthly`` until a newcomer saving for ``target`` may be allotted."""
    service = service_of(request)
    program = await service.program(code_of(code))
    target = forms.amount_minor(params.get("target"), program["currency"], "target")
    monthly = forms.amount_minor(params.get("monthly"), program["currency"], "monthly")
    if not program["min_target_minor"] <= target <= program["max_target_minor"]:
        raise Invalid("outside the program's target range", field="target")
    months = months_to_eligibility(target, monthly, rules_of(program))
    return {"target_minor": target, "monthly_minor": monthly, "months_to_eligibility": months,
            "share_needed_minor": math.ceil(rules_of(program).min_share * target)}


@get("/api/v1/cooperative/programs/{code:str}/forecast", tags=TAGS,
     summary="How many months of saving a monthly amount until one may be allotted (eligibility, not a promise)")
async def forecast_api(request: Request[Any, Any, Any], code: FromPath[str]) -> dict[str, Any]:
    return await forecast(request, code, dict(request.query_params))


@get("/cooperative", include_in_schema=False, name="cooperative-programs")
async def programs_page(request: Request[Any, Any, Any]) -> Any:
    return render(request, "cooperative/programs.html", programs=await service_of(request).programs(active_only=True))


@get("/cooperative/{code:str}", include_in_schema=False, name="cooperative-program")
async def program_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Any:
    view = await program_view(request, code)
    params = dict(request.query_params)
    result, error = None, None
    if params.get("monthly"):
        try:
            result = await forecast(request, code, params)
        except Invalid as exc:
            error = exc.detail
    return render(request, "cooperative/program.html", program=view, forecast=result, error=error,
                  target=params.get("target", ""), monthly=params.get("monthly", ""))


# -- members ----------------------------------------------------------------------------------------


async def _join(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = service_of(request)
    code = code_of(request.path_params["code"])
    program = await service.program(code)
    target = forms.amount_minor(fields.get("target"), program["currency"], "target")
    await service.join(code, user_of(request), target)
    return await service.membership(code, user_of(request)), f"/cooperative/{code}/me"


def _movement(name: str) -> forms.ActionFn:
    """A member's money movement (contribute, withdraw, repay): the amount in, the membership out."""

    async def move(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
        service = service_of(request)
        code = code_of(request.path_params["code"])
        amount = forms.amount_minor(fields.get("amount"), service.settings.currency, "amount")
        await getattr(service, name)(code, user_of(request), amount, idempotency_key=key_of(fields))
        return await service.membership(code, user_of(request)), f"/cooperative/{code}/me"

    move.__name__ = f"_{name}"  # names the routes: cooperative_contribute ...
    return move


_contribute, _withdraw, _repay = (_movement(name) for name in ("contribute", "withdraw", "repay"))


@get("/api/v1/cooperative/programs/{code:str}/membership", guards=[requires_login], tags=TAGS,
     summary="My membership: balance, score, rank, obligation and instalments")
async def membership_api(request: Request[Any, Any, Any], code: FromPath[str]) -> dict[str, Any]:
    return await service_of(request).membership(code_of(code), user_of(request))


@get("/cooperative/{code:str}/me", guards=[requires_login], include_in_schema=False, name="cooperative-membership")
async def membership_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Any:
    service = service_of(request)
    program = await service.program(code_of(code))
    membership = await service.membership(code, user_of(request))
    return render(request, "cooperative/membership.html", program=program, membership=membership,
                  wallet_minor=await service.accounts.wallet_balance(user_of(request)), request_key=str(uuid.uuid4()))


# -- admin ------------------------------------------------------------------------------------------


async def _create_program(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = service_of(request)
    program = await service.create_program(program_fields(fields, service.settings.currency))
    return program_json(program), "/admin/cooperative/programs"


@get("/api/v1/admin/cooperative/programs", guards=[requires("cooperative.manage")], tags=ADMIN_TAGS,
     summary="Every program, inactive ones too")
async def admin_programs_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [program_json(p) for p in await service_of(request).programs()]


@get("/admin/cooperative/programs", guards=[requires("cooperative.manage")], include_in_schema=False,
     name="cooperative-admin-programs")
async def admin_programs_page(request: Request[Any, Any, Any]) -> Any:
    return render(request, "cooperative/admin_programs.html", programs=await service_of(request).programs())


@get("/api/v1/admin/cooperative/valuations", guards=[requires("cooperative.manage")], tags=ADMIN_TAGS,
     summary="The valuation log: the pool at each valuation and what was allotted")
async def admin_valuations_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [valuation_json(v) for v in await service_of(request).valuations()]


@get("/admin/cooperative/valuations", guards=[requires("cooperative.manage")], include_in_schema=False,
     name="cooperative-admin-valuations")
async def admin_valuations_page(request: Request[Any, Any, Any]) -> Any:
    service = service_of(request)
    return render(request, "cooperative/admin_valuations.html", valuations=await service.valuations(),
                  currency=service.settings.currency)


ROUTES = [
    programs_api, program_api, forecast_api, programs_page, program_page,
    action("/cooperative/{code:str}/join", "/api/v1/cooperative/programs/{code:str}/members", _join,
           guards=[requires_login], summary="Join a program with a target price", tags=TAGS, status_code=201),
    action("/cooperative/{code:str}/contribute", "/api/v1/cooperative/programs/{code:str}/contributions", _contribute,
           guards=[requires_login], summary="Pay a share contribution from the wallet into the pool", tags=TAGS,
           status_code=201),
    action("/cooperative/{code:str}/withdraw", "/api/v1/cooperative/programs/{code:str}/withdrawals", _withdraw,
           guards=[requires_login], summary="Take part of the share back to the wallet, before allotment", tags=TAGS,
           status_code=201),
    action("/cooperative/{code:str}/repay", "/api/v1/cooperative/programs/{code:str}/repayments", _repay,
           guards=[requires_login], summary="Repay the obligation after allotment, from the wallet to the pool",
           tags=TAGS, status_code=201),
    membership_api, membership_page,
    admin_programs_api, admin_programs_page,
    action("/admin/cooperative/programs", "/api/v1/admin/cooperative/programs", _create_program,
           guards=[requires("cooperative.manage")], summary="Create a program", tags=ADMIN_TAGS, status_code=201),
    admin_valuations_api, admin_valuations_page,
]
