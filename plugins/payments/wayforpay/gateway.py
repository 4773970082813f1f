"""WayForPay: the wire protocol and nothing else.

* Purchase is a form the customer's browser posts to ``{pay_url}`` (the hosted page);
  nothing is sent server to server until the customer arrives there.
* API calls are JSON posted to ``{api_url}`` with a ``transactionType``: ``CHECK_STATUS``,
  ``REFUND``, ``SETTLE``, ``CHARGE`` (a saved ``recToken``), ``TRANSACTION_LIST``.
* The ``serviceUrl`` callback is a JSON body; the merchant must answer with a signed
  ``accept``, or WayForPay sends it again.

Amounts are decimals rendered as PHP renders numbers (see :func:`.signature.amount_text`).
Every signature is HMAC-MD5 over the fields listed in :data:`.signature.SIGNED_FIELDS`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
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
    Redirect,
    SavedCard,
)
from core.money import Money, MoneyError
from plugins.payments.wayforpay import signature
from plugins.payments.wayforpay.signature import amount_text
from plugins.payments.wire import Wire, WireFailure, load_json, unseen_order

PRODUCTION_PAY_URL = "https://secure.wayforpay.com/pay"
PRODUCTION_API_URL = "https://api.wayforpay.com/api"

TRANSACTION_STATUSES: dict[str, GatewayStatus] = {
    "Created": GatewayStatus.PENDING,
    "InProcessing": GatewayStatus.PENDING,
    "Pending": GatewayStatus.PENDING,
    "WaitingAuthComplete": GatewayStatus.PROCESSED,  # authorised: the money is held
    "Approved": GatewayStatus.PROCESSED,
    "Refunded": GatewayStatus.PROCESSED,             # it was paid; see `refunded`
    "RefundInProcessing": GatewayStatus.PROCESSED,
    "Voided": GatewayStatus.CANCELED,                # an authorisation released
    "Declined": GatewayStatus.ERROR,
    "Expired": GatewayStatus.CANCELED,
}
OK = 1100
ORDER_NOT_FOUND = 1127
LANGUAGES = {"ru": "RU", "uk": "UA", "en": "EN"}


class WayForPayGateway(GatewayDefaults):
    name = "wayforpay"
    title = "WayForPay"
    supports_redirect = True
    supports_authorize = True
    supports_refund = True
    supports_partial_refund = True
    supports_recurring = True
    supports_callbacks = True
    supports_listing = True

    def __init__(
        self,
        *,
        merchant_account: str,
        secret_key: str,
        merchant_domain: str,
        pay_url: str = PRODUCTION_PAY_URL,
        api_url: str = PRODUCTION_API_URL,
        currencies: frozenset[str] = frozenset({"UAH", "USD", "EUR"}),
        order_lifetime_s: int = 3600,
        timeout_s: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "wayforpay",
    ) -> None:
        self.name = name
        self.merchant_account = merchant_account
        self.secret_key = secret_key
        self.merchant_domain = merchant_domain
        self.pay_url = pay_url
        self.api_url = api_url
        self.currencies = frozenset(currencies)
        self.order_lifetime_s = order_lifetime_s
        self.wire = Wire(timeout_s, transport)

    # -- the hosted page -------------------------------------------------------------------------

    def _order(self, request: PaymentRequest) -> dict[str, Any]:
        return {
            "merchantAccount": self.merchant_account,
            "merchantDomainName": self.merchant_domain,
            "orderReference": request.payment_id,
            "orderDate": int(time.time()),
            "amount": request.amount.amount,
            "currency": request.amount.currency,
            "productName": [request.description[:255] or "payment"],
            "productCount": [1],
            "productPrice": [request.amount.amount],
        }

    def purchase_form(self, request: PaymentRequest, transaction_type: str) -> list[tuple[str, str]]:
        order = self._order(request)
        order["merchantSignature"] = signature.signature(self.secret_key, "purchase", order)
        fields: list[tuple[str, str]] = [
            ("merchantAccount", self.merchant_account),
            ("merchantAuthType", "SimpleSignature"),
            ("merchantDomainName", self.merchant_domain),
            ("merchantTransactionType", transaction_type),
            ("merchantTransactionSecureType", "AUTO"),
            ("merchantSignature", order["merchantSignature"]),
            ("apiVersion", "1"),
            ("language", LANGUAGES.get(request.customer.language, "RU")),
            ("returnUrl", request.return_url),
            ("serviceUrl", request.callback_url),
            ("orderReference", request.payment_id),
            ("orderDate", str(order["orderDate"])),
            ("orderLifetime", str(self.order_lifetime_s)),
            ("amount", amount_text(request.amount.amount)),
            ("currency", request.amount.currency),
            ("productName[]", order["productName"][0]),
            ("productPrice[]", amount_text(request.amount.amount)),
            ("productCount[]", "1"),
            ("clientEmail", request.customer.email),
            ("clientPhone", request.customer.phone),
        ]
        return [(k, v) for k, v in fields if v != ""]

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        form = self.purchase_form(request, "SALE")
        return GatewayResult(GatewayStatus.PENDING, Operation.PURCHASE, request.payment_id, amount=request.amount,
                             provider_status="Created", redirect=Redirect(self.pay_url, "POST", tuple(form)))

    async def authorize(self, request: PaymentRequest) -> GatewayResult:
        form = self.purchase_form(request, "AUTH")
        return GatewayResult(GatewayStatus.PENDING, Operation.AUTHORIZE, request.payment_id, amount=request.amount,
                             provider_status="Created", redirect=Redirect(self.pay_url, "POST", tuple(form)))

    # -- the API -----------------------------------------------------------------------------------

    async def _api(self, transaction_type: str, message: str, params: dict[str, Any]) -> dict[str, Any] | WireFailure:
        body = {"transactionType": transaction_type, "merchantAccount": self.merchant_account, "apiVersion": 1,
                **params}
        body["merchantSignature"] = signature.signature(self.secret_key, message, body)
        answer = await self.wire.post(self.api_url, json_body=body)
        if isinstance(answer, WireFailure):
            return answer
        data = _load_json(answer.text)
        if data is None:
            return WireFailure(GatewayStatus.UNDEFINED, "unreadable_answer", "WayForPay answered something that is not JSON")
        return data

    async def status(self, payment: PaymentRef) -> GatewayResult:
        data = await self._api("CHECK_STATUS", "check_status", {"orderReference": payment.payment_id})
        if isinstance(data, WireFailure):
            return data.result(Operation.STATUS, payment.payment_id)
        if _reason_code(data) == ORDER_NOT_FOUND:
            return unseen_order(payment, self.order_lifetime_s, str(ORDER_NOT_FOUND),
                                str(data.get("reason", "order not found")))
        return self.status_result(data, Operation.STATUS)

    async def refund(self, payment: PaymentRef, amount: Money, refund_id: str) -> GatewayResult:
        return await self._refund(payment, amount, f"refund {refund_id}", Operation.REFUND)

    async def void(self, payment: PaymentRef) -> GatewayResult:
        # Refunding an authorisation in full releases it (transactionStatus Voided).
        return await self._refund(payment, payment.amount, "void", Operation.VOID)

    async def _refund(self, payment: PaymentRef, amount: Money, comment: str, operation: Operation) -> GatewayResult:
        params = {"orderReference": payment.payment_id, "amount": amount.amount, "currency": amount.currency,
                  "comment": comment}
        data = await self._api("REFUND", "refund", params)
        if isinstance(data, WireFailure):
            return data.result(operation, payment.payment_id)
        if not signature.is_valid(self.secret_key, "refund_answer", data):
            return _untrusted(operation, payment.payment_id, data)
        word = str(data.get("transactionStatus", ""))
        status = {"Refunded": GatewayStatus.PROCESSED, "Voided": GatewayStatus.PROCESSED,
                  "Approved": GatewayStatus.PROCESSED,  # a partial refund leaves the order approved
                  "RefundInProcessing": GatewayStatus.PENDING,
                  "Declined": GatewayStatus.ERROR}.get(word, GatewayStatus.UNDEFINED)
        if _reason_code(data) not in (OK, None) and status is not GatewayStatus.PENDING:
            status = GatewayStatus.ERROR
        return GatewayResult(status, operation, payment.payment_id, amount=amount, provider_status=word,
                             error_code="" if status is GatewayStatus.PROCESSED else str(data.get("reasonCode", "")),
                             error_message="" if status is GatewayStatus.PROCESSED else str(data.get("reason", "")))

    async def capture(self, payment: PaymentRef, amount: Money) -> GatewayResult:
        params = {"orderReference": payment.payment_id, "amount": amount.amount, "currency": amount.currency}
        data = await self._api("SETTLE", "settle", params)
        if isinstance(data, WireFailure):
            return data.result(Operation.CAPTURE, payment.payment_id)
        return self.status_result(data, Operation.CAPTURE)

    async def charge(self, request: PaymentRequest) -> GatewayResult:
        order = self._order(request)
        params = {**order, "merchantAuthType": "SimpleSignature", "merchantTransactionType": "SALE",
                  "merchantTransactionSecureType": "NON3DS", "recToken": request.card_token,
                  "serviceUrl": request.callback_url}
        data = await self._api("CHARGE", "charge", params)
        if isinstance(data, WireFailure):
            return data.result(Operation.RECURRING, request.payment_id)
        return self.status_result(data, Operation.RECURRING)

    async def transactions(self, since: dt.datetime, until: dt.datetime) -> Sequence[GatewayResult]:
        params = {"dateBegin": int(since.timestamp()), "dateEnd": int(until.timestamp())}
        data = await self._api("TRANSACTION_LIST", "transaction_list", params)
        if isinstance(data, WireFailure) or not isinstance(data.get("transactionList"), list):
            return ()
        found = []
        for item in data["transactionList"]:
            if not isinstance(item, dict):
                continue
            word = str(item.get("transactionStatus", ""))
            found.append(GatewayResult(TRANSACTION_STATUSES.get(word, GatewayStatus.UNDEFINED), Operation.STATUS,
                                       str(item.get("orderReference", "")), amount=_money(item, "amount"),
                                       provider_status=word, details={"transactionType": item.get("transactionType")}))
        return found

    # -- answers and callbacks -------------------------------------------------------------------------

    def status_result(self, data: Mapping[str, Any], operation: Operation) -> GatewayResult:
        """A CHECK_STATUS, SETTLE or CHARGE answer, or a callback, as a result."""
        payment_id = str(data.get("orderReference", ""))
        if not data.get("transactionStatus") and _reason_code(data) not in (None, OK):
            # A refusal of the request itself (bad token, bad amount...): nothing was done.
            status = GatewayStatus.UNDEFINED if operation is Operation.STATUS else GatewayStatus.ERROR
            return GatewayResult(status, operation, payment_id, error_code=str(data.get("reasonCode", "")),
                                 error_message=str(data.get("reason", "")))
        if not signature.is_valid(self.secret_key, "status_answer", data):
            return _untrusted(operation, payment_id, data)
        word = str(data.get("transactionStatus", ""))
        status = TRANSACTION_STATUSES.get(word, GatewayStatus.UNDEFINED)
        card = None
        if data.get("recToken"):
            card = SavedCard(str(data["recToken"]), str(data.get("cardPan", "")), str(data.get("cardType", "")))
        refunded = _money(data, "refundAmount")
        failed = status in (GatewayStatus.ERROR, GatewayStatus.CANCELED)
        return GatewayResult(
            status, operation, payment_id, amount=_money(data, "amount"), reference=str(data.get("authCode", "")),
            provider_status=word, card=card, refunded=refunded if refunded and refunded.minor else None,
            error_code=str(data.get("reasonCode", "")) if failed else "",
            error_message=str(data.get("reason", "")) if failed else "",
            details={k: data[k] for k in ("cardPan", "cardType", "authCode", "paymentSystem", "fee")
                     if data.get(k) not in (None, "")},
        )

    def parse_callback(self, callback: CallbackRequest) -> Notification:
        data = _callback_fields(callback.body)
        if data is None:
            return Notification(False, problem="malformed: the body is not a JSON object")
        payment_id = str(data.get("orderReference", ""))
        if not payment_id or not data.get("merchantSignature"):
            return Notification(False, payment_id=payment_id, problem="malformed: orderReference or signature missing")
        if str(data.get("merchantAccount", "")) != self.merchant_account:
            return Notification(False, payment_id=payment_id, problem="callback for another merchant account")
        if not signature.is_valid(self.secret_key, "status_answer", data):
            return Notification(False, payment_id=payment_id, problem="bad signature")
        return Notification(True, payment_id=payment_id, result=self.status_result(data, Operation.PURCHASE))

    def acknowledge(self, notification: Notification, accepted: bool) -> CallbackReply:
        if not accepted:
            # Anything but a signed "accept" makes WayForPay try again later.
            return CallbackReply(400, b'{"status":"refuse"}', "application/json")
        reply: dict[str, Any] = {"orderReference": notification.payment_id, "status": "accept",
                                 "time": int(time.time())}
        reply["signature"] = signature.signature(self.secret_key, "accept", reply)
        return CallbackReply(200, json.dumps(reply).encode(), "application/json")


def _load_json(text: str) -> dict[str, Any] | None:
    data = load_json(text, parse_float=Decimal)
    return data if isinstance(data, dict) else None


def _callback_fields(body: bytes) -> dict[str, Any] | None:
    """The JSON body; WayForPay sometimes labels it as a form, so a lone form key that is JSON counts."""
    text = body.decode("utf-8", "replace").strip()
    data = _load_json(text)
    if data is None:
        pairs = parse_qsl(text, keep_blank_values=True)
        if len(pairs) == 1 and pairs[0][0].startswith("{"):
            data = _load_json(pairs[0][0] + pairs[0][1])
    return data


def _reason_code(data: Mapping[str, Any]) -> int | None:
    try:
        return int(str(data.get("reasonCode")))
    except ValueError:
        return None


def _money(data: Mapping[str, Any], field: str) -> Money | None:
    value, currency = data.get(field), data.get("currency")
    if value in (None, "") or not isinstance(currency, str):
        return None
    try:
        return Money.of(Decimal(str(value)), currency)
    except (InvalidOperation, MoneyError):
        return None


def _untrusted(operation: Operation, payment_id: str, data: Mapping[str, Any]) -> GatewayResult:
    return GatewayResult(GatewayStatus.UNDEFINED, operation, payment_id, error_code="bad_signature",
                         error_message=f"WayForPay's answer is not signed with our key ({data.get('reason', '')})")
