"""WayForPay's side of the protocol on loopback HTTP.

* ``POST /pay``: the purchase form from the merchant's page (signature checked); shows the
  hosted card page. After paying, the browser is posted back to ``returnUrl``.
* ``POST /api``: JSON API by ``transactionType``: ``CHECK_STATUS``, ``REFUND``, ``SETTLE``,
  ``CHARGE`` (with ``recToken``), ``TRANSACTION_LIST``.
* callbacks: JSON to ``serviceUrl``, repeated until the merchant answers a signed ``accept``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from litestar import Request, Response, post

from core.contracts.payments import Redirect
from core.money import from_minor, to_minor
from plugins.payments.emulation import EmulatedOrder, Mode, ProviderEmulator, form_pairs
from plugins.payments.wayforpay import signature
from plugins.payments.wayforpay.signature import amount_text
from plugins.payments.wire import dumps_exact

REASONS = {
    "approved": (1100, "Ok"),
    "declined": (1101, "Declined To Card Issuer"),
    "insufficient_funds": (1104, "Insufficient Funds"),
    "invalid_card": (1105, "Invalid Card"),
    "expired": (1124, "Cardholder Session Expired"),
}


class WayForPayEmulator(ProviderEmulator):
    provider = "wayforpay"
    title = "WayForPay"
    color = "#1f4d9b"

    def __init__(self, *, merchant_account: str, secret_key: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.merchant_account = merchant_account
        self.secret_key = secret_key

    # -- messages ---------------------------------------------------------------------------------

    def transaction_status(self, order: EmulatedOrder) -> str:
        if order.status == "reversed":
            return "Refunded" if order.refunded >= order.amount else "Approved"
        return {"created": "Created", "processing": "InProcessing", "approved": "Approved",
                "authorized": "WaitingAuthComplete", "declined": "Declined", "expired": "Expired",
                "voided": "Voided"}[order.status]

    def status_fields(self, order: EmulatedOrder) -> dict[str, Any]:
        if order.status in ("approved", "authorized", "reversed"):
            code, reason = REASONS["approved"]
        elif order.status == "created":
            code, reason = 1134, "Pending"
        else:
            code, reason = REASONS.get(order.decline_reason or order.status, REASONS["declined"])
        fields: dict[str, Any] = {
            "merchantAccount": self.merchant_account,
            "orderReference": order.order_id,
            "amount": from_minor(order.amount, order.currency),
            "currency": order.currency,
            "authCode": order.reference[-6:] if order.status in ("approved", "authorized", "reversed") else "",
            "email": order.extra.get("email", ""),
            "createdDate": int(order.created_at.timestamp()),
            "processingDate": int(order.processed_at.timestamp()) if order.processed_at else 0,
            "cardPan": _wfp_mask(order.card_mask),
            "cardType": order.card_brand.title() if order.card_brand else "",
            "issuerBankCountry": "980",
            "issuerBankName": "Sandbox Bank",
            "recToken": order.token,
            "transactionStatus": self.transaction_status(order),
            "reason": reason,
            "reasonCode": code,
            "fee": Decimal("0"),
            "paymentSystem": "card",
            "refundAmount": from_minor(order.refunded, order.currency),
        }
        fields["merchantSignature"] = self.spoil(signature.signature(self.secret_key, "status_answer", fields))
        return fields

    def callback_message(self, order: EmulatedOrder) -> tuple[bytes, str]:
        return dumps_exact(self.status_fields(order)).encode(), "application/json"

    def accepted(self, response: httpx.Response) -> bool:
        """WayForPay wants ``{"status": "accept", ...}`` signed with the merchant's key."""
        if response.status_code != 200:
            return False
        try:
            reply = response.json()
        except ValueError:
            return False
        return (isinstance(reply, dict) and reply.get("status") == "accept"
                and signature.is_valid(self.secret_key, "accept", {**reply, "merchantSignature": reply.get("signature")}))

    def return_target(self, order: EmulatedOrder) -> Redirect | None:
        if not order.return_url:
            return None
        fields = tuple((k, amount_text(v) if isinstance(v, Decimal) else str(v))
                       for k, v in self.status_fields(order).items())
        return Redirect(order.return_url, "POST", fields)

    # -- the entry of the hosted page ------------------------------------------------------------------

    def _json(self, payload: dict[str, Any], status_code: int = 200) -> Response[bytes]:
        return Response(dumps_exact(payload).encode(), status_code=status_code, media_type="application/json")

    def _refusal(self, code: int, reason: str) -> Response[bytes]:
        return self._json({"reason": reason, "reasonCode": code})

    def routes(self) -> list[Any]:
        emulator = self

        @post("/pay", status_code=200)
        async def pay(request: Request[Any, Any, Any]) -> Response[Any]:
            pairs = form_pairs(await request.body())
            single = dict(pairs)
            params: dict[str, Any] = {k: v for k, v in single.items() if not k.endswith("[]")}
            for name in ("productName", "productCount", "productPrice"):
                params[name] = [v for k, v in pairs if k == f"{name}[]"]
            if params.get("merchantAccount") != emulator.merchant_account:
                return emulator.error_page("Unknown merchant account (reason 1121).")
            if not signature.is_valid(emulator.secret_key, "purchase", params):
                return emulator.error_page("Invalid signature (reason 1113).")
            reference = str(params.get("orderReference", ""))
            existing = emulator.find(reference)
            if existing is not None:
                if existing.status == "created":
                    return emulator.card_page(existing)
                return emulator.error_page(f"Duplicate order id {reference} (reason 1112).")
            try:
                amount = to_minor(Decimal(str(params.get("amount", ""))), str(params.get("currency", "")))
            except (InvalidOperation, ValueError):
                return emulator.error_page("Invalid amount (reason 1130).")
            order = emulator.add_order(EmulatedOrder(
                order_id=reference, amount=amount, currency=str(params["currency"]),
                description=", ".join(params["productName"]),
                kind="authorize" if params.get("merchantTransactionType") == "AUTH" else "purchase",
                callback_url=str(params.get("serviceUrl", "")), return_url=str(params.get("returnUrl", "")),
                save_card=True,  # WayForPay returns a recToken for every card payment of a merchant that has them
                lifetime_s=int(params["orderLifetime"]) if str(params.get("orderLifetime", "")).isdigit() else 86400,
                extra={"email": params.get("clientEmail", "")},
            ))
            return emulator.card_page(order)

        @post("/api", status_code=200)
        async def api(request: Request[Any, Any, Any]) -> Response[Any]:
            try:
                body = json.loads(await request.body(), parse_float=Decimal)
            except ValueError:
                return emulator._refusal(1109, "Format Error")
            if not isinstance(body, dict):
                return emulator._refusal(1109, "Format Error")
            if body.get("merchantAccount") != emulator.merchant_account:
                return emulator._refusal(1121, "Account Not Found")
            handler = {"CHECK_STATUS": emulator._check_status, "REFUND": emulator._refund,
                       "SETTLE": emulator._settle, "CHARGE": emulator._charge,
                       "TRANSACTION_LIST": emulator._transaction_list}.get(str(body.get("transactionType")))
            if handler is None:
                return emulator._refusal(1117, "Api Not Allowed")
            answer = await handler(body)
            await emulator.stall()
            return answer

        return [pay, api]

    # -- API operations -----------------------------------------------------------------------------------

    def _checked(self, body: dict[str, Any], message: str) -> Response[bytes] | None:
        if not signature.is_valid(self.secret_key, message, body):
            return self._refusal(1113, "Invalid Signature")
        return None

    async def _check_status(self, body: dict[str, Any]) -> Response[bytes]:
        if (refused := self._checked(body, "check_status")) is not None:
            return refused
        order = self.find(str(body.get("orderReference", "")))
        if order is None:
            return self._refusal(1127, "Order Not Found")
        return self._json(self.status_fields(order))

    async def _refund(self, body: dict[str, Any]) -> Response[bytes]:
        if (refused := self._checked(body, "refund")) is not None:
            return refused
        order = self.find(str(body.get("orderReference", "")))
        if order is None:
            return self._refusal(1127, "Order Not Found")
        try:
            amount = to_minor(Decimal(str(body.get("amount"))), order.currency)
        except (InvalidOperation, ValueError):
            return self._refusal(1130, "Invalid Amount")
        if order.status == "authorized" and amount == order.amount:
            order.status, word, code, reason = "voided", "Voided", 1100, "Ok"
        elif order.status in ("approved", "reversed") and 0 < amount <= order.amount - order.refunded:
            order.refunded += amount
            order.status = "reversed"
            word = self.transaction_status(order)
            code, reason = 1100, "Ok"
        else:
            word, code, reason = "Declined", 1123, "Refund Not Allowed"
        if code == 1100:
            self.send_callback(order)
        answer: dict[str, Any] = {"merchantAccount": self.merchant_account, "orderReference": order.order_id,
                                  "transactionStatus": word, "reason": reason, "reasonCode": code}
        answer["merchantSignature"] = self.spoil(signature.signature(self.secret_key, "refund_answer", answer))
        return self._json(answer)

    async def _settle(self, body: dict[str, Any]) -> Response[bytes]:
        if (refused := self._checked(body, "settle")) is not None:
            return refused
        order = self.find(str(body.get("orderReference", "")))
        if order is None:
            return self._refusal(1127, "Order Not Found")
        if order.status == "authorized":
            order.status = "approved"
            order.captured = order.amount
            self.send_callback(order)
        return self._json(self.status_fields(order))

    async def _charge(self, body: dict[str, Any]) -> Response[bytes]:
        if (refused := self._checked(body, "charge")) is not None:
            return refused
        reference = str(body.get("orderReference", ""))
        if reference in self.orders:
            return self._refusal(1112, "Duplicate Order ID")
        parent = next((o for o in self.orders.values() if o.token and o.token == body.get("recToken")), None)
        if parent is None:
            return self._refusal(1116, "Token Not Found")
        try:
            amount = to_minor(Decimal(str(body.get("amount"))), str(body.get("currency", "")))
        except (InvalidOperation, ValueError):
            return self._refusal(1130, "Invalid Amount")
        order = self.add_order(EmulatedOrder(order_id=reference, amount=amount, currency=str(body["currency"]),
                                             kind="recurring", callback_url=str(body.get("serviceUrl", ""))))
        self.settle(order, "declined" if self.has(Mode.DECLINED) else "approved")
        order.card_mask, order.card_brand = parent.card_mask, parent.card_brand
        self.send_callback(order)
        return self._json(self.status_fields(order))

    async def _transaction_list(self, body: dict[str, Any]) -> Response[bytes]:
        if (refused := self._checked(body, "transaction_list")) is not None:
            return refused
        try:
            begin = dt.datetime.fromtimestamp(int(body["dateBegin"]), dt.UTC)
            end = dt.datetime.fromtimestamp(int(body["dateEnd"]), dt.UTC)
        except (KeyError, TypeError, ValueError):
            return self._refusal(1115, "Parameter Missing")
        listed = []
        for order in self.orders.values():
            if begin <= order.created_at <= end:
                fields = self.status_fields(order)
                listed.append({k: fields[k] for k in ("orderReference", "amount", "currency", "transactionStatus",
                                                       "createdDate", "processingDate", "reasonCode", "reason",
                                                       "cardPan", "fee")} | {"transactionType": "SALE"})
        return self._json({"reason": "Ok", "reasonCode": 1100, "transactionList": listed})


def _wfp_mask(mask: str) -> str:
    """WayForPay shows cards as ``41****8217``."""
    return f"{mask[:2]}****{mask[-4:]}" if mask else ""


def build_emulator(settings: Any, *, public_url: str, **kwargs: Any) -> WayForPayEmulator:
    return WayForPayEmulator(merchant_account=settings.merchant_account,
                             secret_key=settings.secret_key.get_secret_value(), public_url=public_url, **kwargs)
