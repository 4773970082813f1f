"""Fondy (cloudipsp), protocol 1.0 over JSON: the wire protocol and nothing else.

Every call is ``POST {api_url}/<path>/`` with ``{"request": {...signed params}}`` and
answers ``{"response": {...}}`` with HTTP 200; ``response_status`` says whether the call
itself worked. Amounts are integers in minor units. Order answers and callbacks are
signed like requests (see :mod:`.signature`); P2P credits (payouts) are signed with the
separate credit key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx

from core.contracts.payments import (
    CallbackReply,
    CallbackRequest,
    GatewayDefaults,
    GatewayResult,
    GatewayStatus,
    Notification,
    Operation,
    PaymentRef,
    PaymentRequest,
    PayoutRequest,
    Redirect,
    SavedCard,
)
from core.money import Money, MoneyError
from plugins.payments.fondy import signature
from plugins.payments.wire import Wire, WireFailure, load_json

PRODUCTION_API = "https://pay.fondy.eu/api"
PROTOCOL_VERSION = "1.0.1"

#: ``order_status`` -> what it means for the payment.
ORDER_STATUSES: dict[str, GatewayStatus] = {
    "created": GatewayStatus.PENDING,      # the customer has not entered the card yet
    "processing": GatewayStatus.PENDING,
    "approved": GatewayStatus.PROCESSED,
    "declined": GatewayStatus.ERROR,
    "expired": GatewayStatus.CANCELED,     # the customer never paid within the lifetime
    "reversed": GatewayStatus.PROCESSED,   # it was paid, then (partly) given back: see `refunded`
}
TRAN_TYPES: dict[str, Operation] = {
    "purchase": Operation.PURCHASE,
    "verification": Operation.AUTHORIZE,
    "reverse": Operation.REFUND,
    "p2p credit": Operation.PAYOUT,
}
ORDER_NOT_FOUND = "1018"
DUPLICATE_ORDER = "1013"


class FondyGateway(GatewayDefaults):
    name = "fondy"
    title = "Fondy"
    supports_redirect = True
    supports_authorize = True
    supports_refund = True
    supports_partial_refund = True
    supports_recurring = True
    supports_callbacks = True

    def __init__(
        self,
        *,
        merchant_id: int,
        secret_key: str,
        credit_key: str | None = None,
        api_url: str = PRODUCTION_API,
        currencies: frozenset[str] = frozenset({"UAH", "USD", "EUR", "GBP"}),
        lifetime_s: int = 3600,
        timeout_s: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "fondy",
    ) -> None:
        self.name = name
        self.merchant_id = merchant_id
        self.secret_key = secret_key
        self.credit_key = credit_key
        self.api_url = api_url.rstrip("/")
        self.currencies = frozenset(currencies)
        self.lifetime_s = lifetime_s
        self.wire = Wire(timeout_s, transport)
        # Payouts need the credit key Fondy issues separately.
        self.supports_payout = bool(credit_key)
        self.payout_destinations = frozenset({"card"}) if credit_key else frozenset()

    # -- requests ----------------------------------------------------------------------------

    def _order(self, payment_id: str, amount: Money, description: str = "") -> dict[str, Any]:
        params: dict[str, Any] = {
            "order_id": payment_id,
            "merchant_id": self.merchant_id,
            "amount": amount.minor,
            "currency": amount.currency,
            "version": PROTOCOL_VERSION,
        }
        if description:
            params["order_desc"] = description[:1024]
        return params

    async def _call(self, path: str, params: Mapping[str, Any], key: str | None = None) -> dict[str, Any] | WireFailure:
        body = {"request": signature.sign(key or self.secret_key, params)}
        answer = await self.wire.post_json(f"{self.api_url}/{path}/", body)
        if isinstance(answer, WireFailure):
            return answer
        response = answer.get("response")
        if not isinstance(response, dict):
            return WireFailure(GatewayStatus.UNDEFINED, "unreadable_answer", "Fondy answered without a 'response' object")
        return response

    async def _hosted(self, request: PaymentRequest, operation: Operation) -> GatewayResult:
        params = self._order(request.payment_id, request.amount, request.description)
        params.update(
            response_url=request.return_url,
            server_callback_url=request.callback_url,
            lifetime=self.lifetime_s,
            lang=request.customer.language,
            sender_email=request.customer.email,
        )
        if request.save_card:
            params["required_rectoken"] = "Y"
        if operation is Operation.AUTHORIZE:
            params["preauth"] = "Y"
        response = await self._call("checkout/url", _drop_empty(params))
        if isinstance(response, WireFailure):
            return response.result(operation, request.payment_id)
        if response.get("response_status") != "success":
            return self._failure(response, operation, request.payment_id)
        url = response.get("checkout_url")
        if not isinstance(url, str) or not url:
            return GatewayResult(GatewayStatus.UNDEFINED, operation, request.payment_id,
                                 error_code="unreadable_answer", error_message="Fondy gave no checkout_url")
        return GatewayResult(GatewayStatus.PENDING, operation, request.payment_id, amount=request.amount,
                             reference=str(response.get("payment_id", "")), provider_status="created",
                             redirect=Redirect(url))

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        return await self._hosted(request, Operation.PURCHASE)

    async def authorize(self, request: PaymentRequest) -> GatewayResult:
        return await self._hosted(request, Operation.AUTHORIZE)

    async def status(self, payment: PaymentRef) -> GatewayResult:
        params = {"order_id": payment.payment_id, "merchant_id": self.merchant_id, "version": PROTOCOL_VERSION}
        response = await self._call("status/order_id", params)
        if isinstance(response, WireFailure):
            return response.result(Operation.STATUS, payment.payment_id)
        if response.get("response_status") != "success":
            return self._failure(response, Operation.STATUS, payment.payment_id)
        return self.order_result(response, Operation.STATUS, self._key_for(response))

    async def refund(self, payment: PaymentRef, amount: Money, refund_id: str) -> GatewayResult:
        params = self._order(payment.payment_id, amount)
        params["comment"] = f"refund {refund_id}"
        return await self._reverse(payment.payment_id, params, Operation.REFUND)

    async def void(self, payment: PaymentRef) -> GatewayResult:
        # A pre-authorisation is released by reversing it in full.
        return await self._reverse(payment.payment_id, self._order(payment.payment_id, payment.amount), Operation.VOID)

    async def _reverse(self, payment_id: str, params: dict[str, Any], operation: Operation) -> GatewayResult:
        response = await self._call("reverse/order_id", params)
        if isinstance(response, WireFailure):
            return response.result(operation, payment_id)
        if response.get("response_status") != "success":
            return self._failure(response, operation, payment_id)
        if not signature.is_valid(self.secret_key, response):
            return _untrusted(operation, payment_id)
        word = str(response.get("reverse_status", ""))
        status = {"approved": GatewayStatus.PROCESSED, "declined": GatewayStatus.ERROR,
                  "created": GatewayStatus.PENDING}.get(word, GatewayStatus.UNDEFINED)
        return GatewayResult(status, operation, payment_id, amount=_money(response, "reversal_amount"),
                             provider_status=word, error_code=str(response.get("response_code") or ""),
                             error_message=str(response.get("response_description") or ""))

    async def capture(self, payment: PaymentRef, amount: Money) -> GatewayResult:
        response = await self._call("capture/order_id", self._order(payment.payment_id, amount))
        if isinstance(response, WireFailure):
            return response.result(Operation.CAPTURE, payment.payment_id)
        if response.get("response_status") != "success":
            return self._failure(response, Operation.CAPTURE, payment.payment_id)
        if not signature.is_valid(self.secret_key, response):
            return _untrusted(Operation.CAPTURE, payment.payment_id)
        word = str(response.get("capture_status", ""))
        status = {"captured": GatewayStatus.PROCESSED, "declined": GatewayStatus.ERROR}.get(word, GatewayStatus.PENDING)
        return GatewayResult(status, Operation.CAPTURE, payment.payment_id, amount=amount, provider_status=word)

    async def charge(self, request: PaymentRequest) -> GatewayResult:
        params = self._order(request.payment_id, request.amount, request.description or "recurring charge")
        params.update(rectoken=request.card_token, server_callback_url=request.callback_url)
        response = await self._call("recurring", _drop_empty(params))
        if isinstance(response, WireFailure):
            return response.result(Operation.RECURRING, request.payment_id)
        if response.get("response_status") != "success":
            return self._failure(response, Operation.RECURRING, request.payment_id, business=True)
        return self.order_result(response, Operation.RECURRING, self.secret_key)

    async def payout(self, request: PayoutRequest) -> GatewayResult:
        if not self.credit_key:
            return self.not_supported(Operation.PAYOUT, request.payout_id)
        destination = request.destination
        if destination.kind != "card" or not (destination.card_number or destination.card_token):
            return GatewayResult(GatewayStatus.CANCELED, Operation.PAYOUT, request.payout_id,
                                 error_code="unsupported_destination",
                                 error_message="Fondy pays out to cards only (a number or a saved token)")
        params = self._order(request.payout_id, request.amount, request.description or "payout")
        if destination.card_token:
            params["receiver_rectoken"] = destination.card_token
        else:
            params["receiver_card_number"] = destination.card_number
        response = await self._call("p2pcredit", params, key=self.credit_key)
        if isinstance(response, WireFailure):
            return response.result(Operation.PAYOUT, request.payout_id)
        if response.get("response_status") != "success":
            return self._failure(response, Operation.PAYOUT, request.payout_id, business=True)
        return self.order_result(response, Operation.PAYOUT, self.credit_key)

    # -- answers --------------------------------------------------------------------------------

    def _failure(self, response: Mapping[str, Any], operation: Operation, payment_id: str,
                 business: bool = False) -> GatewayResult:
        code = str(response.get("error_code", ""))
        message = str(response.get("error_message", ""))
        if code == DUPLICATE_ORDER:
            # An earlier attempt with this order id reached Fondy: ask what became of it, do not guess.
            status = GatewayStatus.UNDEFINED
        elif code == ORDER_NOT_FOUND:
            # Fondy never saw this order: nothing happened.
            status = GatewayStatus.CANCELED if operation is Operation.STATUS else GatewayStatus.ERROR
        elif business:
            status = GatewayStatus.ERROR
        else:
            status = GatewayStatus.UNDEFINED if operation is Operation.STATUS else GatewayStatus.ERROR
        return GatewayResult(status, operation, payment_id, error_code=code, error_message=message)

    def order_result(self, data: Mapping[str, Any], operation: Operation, key: str) -> GatewayResult:
        """A signed order answer (status, recurring, payout, callback) as a result."""
        payment_id = str(data.get("order_id", ""))
        if not signature.is_valid(key, data):
            return _untrusted(operation, payment_id)
        word = str(data.get("order_status", ""))
        status = ORDER_STATUSES.get(word, GatewayStatus.UNDEFINED)
        card = None
        if data.get("rectoken"):
            card = SavedCard(token=str(data["rectoken"]), masked_pan=str(data.get("masked_card", "")),
                             brand=str(data.get("card_type", "")))
        refunded = _money(data, "reversal_amount")
        return GatewayResult(
            status,
            operation,
            payment_id,
            amount=_money(data, "amount"),
            reference=str(data.get("payment_id", "")),
            provider_status=word,
            card=card,
            refunded=refunded if refunded and refunded.minor else None,
            error_code=str(data.get("response_code") or "") if status is GatewayStatus.ERROR else "",
            error_message=str(data.get("response_description") or "") if status is GatewayStatus.ERROR else "",
            details={k: data[k] for k in ("tran_type", "masked_card", "card_type", "rrn", "approval_code",
                                          "order_time") if data.get(k) not in (None, "")},
        )

    # -- callbacks ------------------------------------------------------------------------------

    def parse_callback(self, callback: CallbackRequest) -> Notification:
        data = _callback_fields(callback)
        if data is None:
            return Notification(False, problem="malformed: neither a JSON object nor form fields")
        payment_id = str(data.get("order_id", ""))
        if not payment_id or "signature" not in data:
            return Notification(False, payment_id=payment_id, problem="malformed: order_id or signature missing")
        key = self._key_for(data)
        if not signature.is_valid(key, data):
            return Notification(False, payment_id=payment_id, problem="bad signature")
        operation = TRAN_TYPES.get(str(data.get("tran_type", "")), Operation.PURCHASE)
        return Notification(True, payment_id=payment_id, result=self.order_result(data, operation, key))

    def _key_for(self, data: Mapping[str, Any]) -> str:
        """The key an order answer is signed with: payouts (P2P credits) with the credit key."""
        return self.credit_key if data.get("tran_type") == "p2p credit" and self.credit_key else self.secret_key

    def acknowledge(self, notification: Notification, accepted: bool) -> CallbackReply:
        # Fondy only looks at the HTTP status: anything but 200 is retried.
        return CallbackReply() if accepted else CallbackReply(400, b"rejected")


def _drop_empty(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v not in ("", None)}


def _money(data: Mapping[str, Any], field: str) -> Money | None:
    value, currency = data.get(field), data.get("currency")
    if value in (None, "") or not isinstance(currency, str):
        return None
    try:
        return Money(int(str(value)), currency)
    except (ValueError, MoneyError):
        return None


def _untrusted(operation: Operation, payment_id: str) -> GatewayResult:
    return GatewayResult(GatewayStatus.UNDEFINED, operation, payment_id, error_code="bad_signature",
                         error_message="Fondy's answer is not signed with our key; not trusted")


def _callback_fields(callback: CallbackRequest) -> dict[str, Any] | None:
    """Fondy posts callbacks as JSON (flat, or wrapped in ``response``) or as a form."""
    text = callback.body.decode("utf-8", "replace").strip()
    if text.startswith("{"):
        data = load_json(text)
        if isinstance(data, dict) and isinstance(data.get("response"), dict):
            data = data["response"]
        return data if isinstance(data, dict) else None
    pairs = parse_qsl(text, keep_blank_values=True)
    return dict(pairs) if pairs else None
