"""Customer pages and API, the providers' callbacks and the browser's way back.

Pages: ``/payments`` (balance and history), ``/payments/topup``, ``/payments/withdraw``,
``/payments/{id}`` (status), ``/payments/{id}/pay`` (on to the provider),
``/payments/{id}/confirm`` (the withdrawal's code), ``/payments/return/{id}``.
API: ``/api/v1/payments/...``. Callbacks: ``POST /api/v1/payments/callbacks/{gateway}``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from litestar import MediaType, Request, Response, delete, get, post, route
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template
from pydantic import BaseModel, ConfigDict, Field

from core.access import identity_of, requires_login
from core.contracts.payments import CallbackRequest, Customer
from core.web.i18n import current_locale
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.payments.service import BankAccount, PaymentRefused, Payments, parse_uuid
from plugins.payments.states import UNSETTLED, Kind, Status

log = logging.getLogger(__name__)


def service(request: Request[Any, Any, Any]) -> Payments:
    return request.app.state.platform.service(Payments)


def user_id(request: Request[Any, Any, Any]) -> UUID:
    identity = identity_of(request)
    assert identity.user_id is not None  # guarded by requires_login
    return identity.user_id


def customer_of(request: Request[Any, Any, Any]) -> Customer:
    identity = identity_of(request)
    return Customer(id=str(identity.user_id), name=identity.display_name, ip=request.client.host if request.client else "",
                    language=current_locale())


def payment_uuid(value: str) -> UUID:
    parsed = parse_uuid(value)
    if parsed is None:
        raise NotFoundException(f"no payment {value!r}")
    return parsed


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    # NUL characters have no place in anything we store (PostgreSQL refuses them).
    return {k: v.replace("\x00", "") for k, v in form.items() if isinstance(v, str)}


def gateway_views(gateways: list[Any]) -> list[dict[str, Any]]:
    return [{"name": g.name, "title": g.title, "recurring": g.supports_recurring,
             "destinations": sorted(getattr(g, "payout_destinations", ()))} for g in gateways]


# -- pages ----------------------------------------------------------------------------------------------------


@get("/payments", guards=[requires_login], include_in_schema=False, name="payments-wallet")
async def wallet_page(request: Request[Any, Any, Any]) -> Template:
    payments = service(request)
    me = user_id(request)
    balance = None
    try:
        balance = await payments.available_balance(me)
    except LookupError:  # no ledger in this deployment
        pass
    return render(request, "payments/wallet.html", balance=balance, history=await payments.history(me),
                  cards=await payments.cards(me), can_withdraw=bool(payments.payout_gateways()))


@get("/payments/topup", guards=[requires_login], include_in_schema=False, name="payments-topup")
async def topup_page(request: Request[Any, Any, Any]) -> Template:
    return _topup_form(request, {})


def _topup_form(request: Request[Any, Any, Any], values: dict[str, str], error: str = "",
                status_code: int = 200) -> Template:
    payments = service(request)
    gateways = payments.topup_gateways()
    return render(request, "payments/topup.html", status_code=status_code, gateways=gateway_views(gateways),
                  currency=payments.currency, values=values, error=error,
                  min_amount=payments.settings.min_topup, max_amount=payments.settings.max_topup)


@post("/payments/topup", guards=[requires_login], include_in_schema=False, status_code=303)
async def topup_submit(request: Request[Any, Any, Any]) -> Any:
    values = await form_of(request)
    payments = service(request)
    try:
        if not values.get("gateway"):
            raise PaymentRefused(_("Choose how to pay."))
        payment = await payments.start_topup(
            user_id=user_id(request), amount=payments.money(values.get("amount", "")), gateway=values["gateway"],
            save_card=values.get("save_card") == "on", customer=customer_of(request),
            idempotency_key=values.get("idempotency_key") or None)
    except (PaymentRefused, NotFoundException) as exc:
        return _topup_form(request, values, error=str(exc.detail), status_code=422)
    if payment.redirect is not None and payment.status is Status.PENDING:
        return Redirect(f"/payments/{payment.id}/pay", status_code=303)
    return Redirect(f"/payments/{payment.id}", status_code=303)


@get("/payments/{payment_id:str}", guards=[requires_login], include_in_schema=False, name="payments-payment")
async def payment_page(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Template:
    payments = service(request)
    payment = await payments.payment_of(user_id(request), payment_uuid(payment_id))
    return render(request, "payments/payment.html", payment=payment, waiting=payment.status in UNSETTLED,
                  gateway_title=_gateway_title(payments, payment.gateway))


def _gateway_title(payments: Payments, name: str) -> str:
    registry = payments.platform.registry("payment_gateways")
    return registry.get(name).title if name in registry else name


@get("/payments/{payment_id:str}/pay", guards=[requires_login], include_in_schema=False)
async def pay_page(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Any:
    """A page that sends the browser on to the provider, GET or form POST."""
    payments = service(request)
    payment = await payments.payment_of(user_id(request), payment_uuid(payment_id))
    if payment.redirect is None or payment.status is not Status.PENDING:
        return Redirect(f"/payments/{payment.id}", status_code=303)
    target = payment.redirect
    origin = urlsplit(target.url)
    allowed = f"{origin.scheme}://{origin.netloc}" if origin.netloc else ""
    # Our pages may only post forms to ourselves; this one also to the provider.
    policy = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
              f"base-uri 'self'; form-action 'self' {allowed}; frame-ancestors 'none'")
    page = render(request, "payments/pay.html", payment=payment, target=target,
                  gateway_title=_gateway_title(payments, payment.gateway))
    page.set_header("content-security-policy", policy)
    return page


@route("/payments/return/{payment_id:str}", http_method=["GET", "POST"], include_in_schema=False,
       opt={"csrf_exempt": True}, status_code=303)
async def provider_return(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    """The provider sends the customer's browser back here (a GET, or a form posted cross-site).

    Nothing the browser brings is trusted: if the payment is still unsettled we ask the
    provider ourselves (a callback may be late), then show the payment's own page.
    """
    parsed = payment_uuid(payment_id)
    payments = service(request)
    payment = await payments.store.get(parsed)
    if payment is None:
        raise NotFoundException(f"no payment {payment_id}")
    # Only pay-ins come back from a provider's page. A payout or a card charge is asked about by
    # the janitor alone: asked while it is being sent, the provider would not know it yet.
    if payment.kind is Kind.TOPUP and payment.status in UNSETTLED:
        try:
            await asyncio.wait_for(payments.check(parsed, actor="return"), timeout=10)
        except Exception:
            log.warning("status check on return failed for %s", parsed, exc_info=True)
    return Redirect(f"/payments/{parsed}", status_code=303)


@get("/payments/withdraw", guards=[requires_login], include_in_schema=False, name="payments-withdraw")
async def withdraw_page(request: Request[Any, Any, Any]) -> Template:
    return await _withdraw_form(request, {})


async def _withdraw_form(request: Request[Any, Any, Any], values: dict[str, str], error: str = "",
                         status_code: int = 200) -> Template:
    payments = service(request)
    me = user_id(request)
    gateways = payments.payout_gateways()
    cards = [c for c in await payments.cards(me) if any(
        g.name == c.gateway and "card" in getattr(g, "payout_destinations", ()) for g in gateways)]
    banks = [g for g in gateways if "bank_account" in getattr(g, "payout_destinations", ())]
    balance = None
    try:
        balance = await payments.available_balance(me)
    except LookupError:
        pass
    return render(request, "payments/withdraw.html", status_code=status_code, cards=cards,
                  banks=gateway_views(banks), values=values, error=error, balance=balance,
                  currency=payments.currency, threshold=payments.settings.approval_threshold)


@post("/payments/withdraw", guards=[requires_login], include_in_schema=False, status_code=303)
async def withdraw_submit(request: Request[Any, Any, Any]) -> Any:
    values = await form_of(request)
    payments = service(request)
    me = user_id(request)
    try:
        amount = payments.money(values.get("amount", ""))
        kind, _sep, target = values.get("destination", "").partition(":")
        if kind == "card":
            card = next((c for c in await payments.cards(me) if str(c.id) == target), None)
            if card is None:
                raise PaymentRefused(_("Choose one of your saved cards."))
            payment = await payments.request_withdrawal(user_id=me, amount=amount, gateway=card.gateway,
                                                        card_id=card.id)
        elif kind == "bank":
            account = BankAccount(account_number=values.get("account_number", "").replace(" ", ""),
                                  bank_code=values.get("bank_code", "").strip(),
                                  holder_name=values.get("holder_name", "").strip(),
                                  bank_name=values.get("bank_name", "").strip())
            payment = await payments.request_withdrawal(user_id=me, amount=amount, gateway=target,
                                                        bank_account=account)
        else:
            raise PaymentRefused(_("Choose where the money goes."))
    except (PaymentRefused, NotFoundException) as exc:
        return await _withdraw_form(request, values, error=str(exc.detail), status_code=422)
    return Redirect(f"/payments/{payment.id}/confirm", status_code=303)


@get("/payments/{payment_id:str}/confirm", guards=[requires_login], include_in_schema=False)
async def confirm_page(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Any:
    payments = service(request)
    payment = await payments.payment_of(user_id(request), payment_uuid(payment_id))
    if payment.status is not Status.AWAITING_CONFIRMATION:
        return Redirect(f"/payments/{payment.id}", status_code=303)
    return render(request, "payments/confirm.html", payment=payment, error="")


@post("/payments/{payment_id:str}/confirm", guards=[requires_login], include_in_schema=False, status_code=303)
async def confirm_submit(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Any:
    payments = service(request)
    values = await form_of(request)
    parsed = payment_uuid(payment_id)
    try:
        await payments.confirm_withdrawal(user_id=user_id(request), payment_id=parsed, code=values.get("code", ""))
    except HTTPException as exc:
        if exc.status_code >= 500 or exc.status_code == 404:
            raise
        payment = await payments.payment_of(user_id(request), parsed)
        return render(request, "payments/confirm.html", status_code=exc.status_code, payment=payment,
                      error=str(exc.detail))
    return Redirect(f"/payments/{parsed}", status_code=303)


@post("/payments/{payment_id:str}/cancel", guards=[requires_login], include_in_schema=False, status_code=303)
async def cancel_submit(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Redirect:
    parsed = payment_uuid(payment_id)
    await service(request).cancel_withdrawal(user_id=user_id(request), payment_id=parsed)
    return Redirect(f"/payments/{parsed}", status_code=303)


@post("/payments/cards/{card_id:str}/delete", guards=[requires_login], include_in_schema=False, status_code=303)
async def remove_card_submit(request: Request[Any, Any, Any], card_id: FromPath[str]) -> Redirect:
    parsed = parse_uuid(card_id)
    if parsed is None:
        raise NotFoundException(f"no saved card {card_id!r}")
    await service(request).remove_card(user_id(request), parsed)
    return Redirect("/payments", status_code=303)


# -- the API ----------------------------------------------------------------------------------------------------


class TopupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(examples=["1500.00"], description="In the currency's units, as a decimal string")
    gateway: str = Field(examples=["fondy"])
    save_card: bool = False
    #: Repeat a request with the same key to get the same payment back, never a second one.
    idempotency_key: str | None = Field(None, max_length=200)


class BankAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    account_number: str
    bank_code: str
    holder_name: str
    bank_name: str = ""


class WithdrawalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(examples=["500.00"])
    gateway: str | None = Field(None, description="Needed with bank_account; a card knows its gateway")
    card_id: UUID | None = None
    bank_account: BankAccountIn | None = None
    idempotency_key: str | None = Field(None, max_length=200)


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=20)


def payment_json(payment: Any) -> dict[str, Any]:
    out = payment.as_json()
    if payment.status is Status.PENDING and payment.redirect is not None:
        out["pay_url"] = f"/payments/{payment.id}/pay"
    return out


@get("/api/v1/payments/gateways", guards=[requires_login], tags=["payments"],
     summary="Gateways for top-ups and withdrawals, with what each supports")
async def api_gateways(request: Request[Any, Any, Any]) -> dict[str, Any]:
    payments = service(request)
    return {"currency": payments.currency,
            "topup": gateway_views(payments.topup_gateways()), "payout": gateway_views(payments.payout_gateways())}


@post("/api/v1/payments/topups", guards=[requires_login], tags=["payments"], status_code=201,
      summary="Start a top-up; send the customer to pay_url")
async def api_topup(request: Request[Any, Any, Any], data: JSONBody[TopupIn]) -> dict[str, Any]:
    payments = service(request)
    payment = await payments.start_topup(user_id=user_id(request), amount=payments.money(data.amount),
                                         gateway=data.gateway, save_card=data.save_card, customer=customer_of(request),
                                         idempotency_key=data.idempotency_key)
    return payment_json(payment)


@get("/api/v1/payments/payments", guards=[requires_login], tags=["payments"], summary="My payments, newest first")
async def api_history(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [payment_json(p) for p in await service(request).history(user_id(request))]


@get("/api/v1/payments/payments/{payment_id:str}", guards=[requires_login], tags=["payments"],
     summary="One of my payments")
async def api_payment(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> dict[str, Any]:
    return payment_json(await service(request).payment_of(user_id(request), payment_uuid(payment_id)))


@get("/api/v1/payments/balance", guards=[requires_login], tags=["payments"], summary="My available balance")
async def api_balance(request: Request[Any, Any, Any]) -> dict[str, Any]:
    balance = await service(request).available_balance(user_id(request))
    return {"available": str(balance.amount), "available_minor": balance.minor, "currency": balance.currency}


@post("/api/v1/payments/withdrawals", guards=[requires_login], tags=["payments"], status_code=201,
      summary="Ask for a payout; a one-time code is sent to confirm it")
async def api_withdraw(request: Request[Any, Any, Any], data: JSONBody[WithdrawalIn]) -> dict[str, Any]:
    payments = service(request)
    me = user_id(request)
    amount = payments.money(data.amount)
    if data.card_id is not None:
        card = next((c for c in await payments.cards(me) if c.id == data.card_id), None)
        if card is None:
            raise ValidationException(f"card_id: no saved card {data.card_id} of yours")
        payment = await payments.request_withdrawal(user_id=me, amount=amount, gateway=card.gateway,
                                                    card_id=card.id, idempotency_key=data.idempotency_key)
    elif data.bank_account is not None and data.gateway:
        account = BankAccount(**data.bank_account.model_dump())
        payment = await payments.request_withdrawal(user_id=me, amount=amount, gateway=data.gateway,
                                                    bank_account=account, idempotency_key=data.idempotency_key)
    else:
        raise ValidationException("give card_id, or gateway and bank_account")
    return payment_json(payment)


@post("/api/v1/payments/withdrawals/{payment_id:str}/confirm", guards=[requires_login], tags=["payments"],
      status_code=200, summary="Confirm a withdrawal with its one-time code")
async def api_confirm(request: Request[Any, Any, Any], payment_id: FromPath[str], data: JSONBody[CodeIn]) -> dict[str, Any]:
    payment = await service(request).confirm_withdrawal(user_id=user_id(request), payment_id=payment_uuid(payment_id),
                                                        code=data.code)
    return payment_json(payment)


@post("/api/v1/payments/withdrawals/{payment_id:str}/cancel", guards=[requires_login], tags=["payments"],
      status_code=200, summary="Cancel a withdrawal not yet sent")
async def api_cancel(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> dict[str, Any]:
    payment = await service(request).cancel_withdrawal(user_id=user_id(request), payment_id=payment_uuid(payment_id))
    return payment_json(payment)


@get("/api/v1/payments/cards", guards=[requires_login], tags=["payments"], summary="My saved cards")
async def api_cards(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [c.as_json() for c in await service(request).cards(user_id(request))]


@delete("/api/v1/payments/cards/{card_id:str}", guards=[requires_login], tags=["payments"], status_code=204,
        summary="Forget a saved card")
async def api_remove_card(request: Request[Any, Any, Any], card_id: FromPath[str]) -> None:
    parsed = parse_uuid(card_id)
    if parsed is None:
        raise NotFoundException(f"no saved card {card_id!r}")
    await service(request).remove_card(user_id(request), parsed)


# -- provider callbacks ---------------------------------------------------------------------------------------------


@post("/api/v1/payments/callbacks/{gateway:str}", tags=["payments"], status_code=200,
      summary="Server callbacks from payment providers (anonymous, signed)", opt={"csrf_exempt": True})
async def provider_callback(request: Request[Any, Any, Any], gateway: FromPath[str]) -> Response[bytes]:
    """Never a 500: a bad callback gets the provider's refusal, our own failure a 503 (it retries)."""
    payments = service(request)
    if gateway not in request.app.state.platform.registry("payment_gateways"):
        return Response(b'{"detail": "no such gateway"}', status_code=404, media_type=MediaType.JSON)
    limit = payments.settings.callback_max_bytes
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        return Response(b'{"detail": "callback too large or without a length"}', status_code=413,
                        media_type=MediaType.JSON)
    try:
        body = await request.body()
        if len(body) > limit:
            return Response(b'{"detail": "callback too large"}', status_code=413, media_type=MediaType.JSON)
        callback = CallbackRequest(
            body=body, content_type=request.headers.get("content-type", ""),
            headers={k.lower(): v for k, v in request.headers.items()},
            query={k: v for k, v in request.query_params.items() if isinstance(v, str)},
            remote_addr=request.client.host if request.client else "")
        reply = await payments.handle_callback(gateway, callback)
    except HTTPException:
        raise
    except Exception:
        log.exception("callback from %s could not be processed", gateway)
        return Response(b'{"detail": "temporarily unavailable"}', status_code=503, media_type=MediaType.JSON)
    return Response(reply.body, status_code=reply.status_code, media_type=reply.content_type)


ROUTES = [
    wallet_page, topup_page, topup_submit, withdraw_page, withdraw_submit, payment_page, pay_page, provider_return,
    confirm_page, confirm_submit, cancel_submit, remove_card_submit,
    api_gateways, api_topup, api_history, api_payment, api_balance, api_withdraw, api_confirm, api_cancel, api_cards,
    api_remove_card, provider_callback,
]
