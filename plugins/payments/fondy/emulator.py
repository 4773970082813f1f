"""Fondy's side of the protocol on loopback HTTP: checkout, hosted page, callbacks, API.

``build_emulator(settings, public_url=...)`` makes one for the plugin's settings (the
same merchant id and keys, so signatures match); ``kopilka payments emulator fondy``
serves it. Endpoints, under the emulator's base URL:

* ``POST /api/checkout/url/``: create an order, answer its ``checkout_url`` (the hosted page);
* ``POST /api/status/order_id/``, ``/api/reverse/order_id/``, ``/api/capture/order_id/``;
* ``POST /api/recurring/`` (charge a ``rectoken``) and ``/api/p2pcredit/`` (payout, credit key);
* callbacks: the signed order, as JSON, to the order's ``server_callback_url``; the
  customer's browser goes back to ``response_url`` with the same fields posted.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post

from core.contracts.payments import Redirect
from plugins.payments.emulation import EmulatedOrder, Mode, ProviderEmulator, form_pairs
from plugins.payments.fondy import signature

#: Our neutral order states in Fondy's words.
STATUS_WORDS = {
    "created": "created", "processing": "processing", "approved": "approved", "authorized": "approved",
    "declined": "declined", "expired": "expired", "reversed": "reversed", "voided": "reversed",
}
DECLINE_CODES = {
    "declined": ("1004", "Do not honor"),
    "insufficient_funds": ("1000", "Insufficient funds"),
    "invalid_card": ("1015", "Invalid card number"),
}


class FondyEmulator(ProviderEmulator):
    provider = "fondy"
    title = "Fondy"
    color = "#3c9b48"

    def __init__(self, *, merchant_id: int, secret_key: str, credit_key: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.merchant_id = merchant_id
        self.secret_key = secret_key
        self.credit_key = credit_key

    # -- messages ----------------------------------------------------------------------------------

    def order_fields(self, order: EmulatedOrder) -> dict[str, Any]:
        code, description = DECLINE_CODES.get(order.decline_reason, ("", ""))
        fields: dict[str, Any] = {
            "order_id": order.order_id,
            "merchant_id": str(self.merchant_id),
            "amount": str(order.amount),
            "currency": order.currency,
            "order_status": STATUS_WORDS[order.status],
            "response_status": "success",
            "tran_type": "p2p credit" if order.kind == "payout" else "purchase",
            "payment_id": order.reference,
            "order_time": order.created_at.strftime("%d.%m.%Y %H:%M:%S"),
            "masked_card": order.card_mask,
            "card_type": order.card_brand,
            "card_bin": order.card_mask[:6],
            "approval_code": order.reference[-6:] if order.status in ("approved", "authorized") else "",
            "response_code": code,
            "response_description": description,
            "reversal_amount": str(order.refunded),
            "actual_amount": str(order.amount),
            "actual_currency": order.currency,
            "rectoken": order.token,
            "sender_email": order.extra.get("sender_email", ""),
            "additional_info": json.dumps({"capture_status": "captured" if order.captured else None,
                                           "capture_amount": order.captured or None}),
        }
        key = self.credit_key if order.kind == "payout" and self.credit_key else self.secret_key
        fields["signature"] = self.spoil(signature.signature(key, fields))
        return fields

    def callback_message(self, order: EmulatedOrder) -> tuple[bytes, str]:
        return json.dumps(self.order_fields(order)).encode(), "application/json; charset=utf-8"

    def return_target(self, order: EmulatedOrder) -> Redirect | None:
        if not order.return_url:
            return None
        fields = tuple((k, str(v)) for k, v in self.order_fields(order).items())
        return Redirect(order.return_url, "POST", fields)

    # -- the API ---------------------------------------------------------------------------------------

    def _answer(self, fields: dict[str, Any]) -> Response[Any]:
        # Fondy always answers HTTP 200; response_status tells success from failure.
        return Response({"response": fields}, status_code=200)

    def _failure(self, code: str, message: str) -> Response[Any]:
        return self._answer({"response_status": "failure", "error_code": code, "error_message": message})

    async def _read(self, request: Request[Any, Any, Any], key: str | None = None) -> dict[str, Any] | Response[Any]:
        body = await request.body()
        try:
            if body.strip().startswith(b"{"):
                data = json.loads(body)
                params = data.get("request") if isinstance(data, dict) else None
            else:
                params = dict(form_pairs(body))
        except ValueError:
            params = None
        if not isinstance(params, dict) or not params:
            return self._failure("1010", "Request is empty")
        if str(params.get("merchant_id", "")) != str(self.merchant_id):
            return self._failure("1016", f"Merchant {params.get('merchant_id')} not found")
        if not signature.is_valid(key or self.secret_key, params):
            return self._failure("1014", "Invalid signature")
        return params

    async def _order_call(
        self, request: Request[Any, Any, Any], *, with_amount: bool
    ) -> tuple[EmulatedOrder, int] | Response[Any]:
        """Read a call about an existing order: the order and (when asked) the amount."""
        params = await self._read(request)
        if isinstance(params, Response):
            return params
        order = self.find(str(params.get("order_id", "")))
        if order is None:
            return self._failure("1018", f"Order {params.get('order_id')} not found")
        amount = self._amount(params) if with_amount else 0
        if isinstance(amount, Response):
            return amount
        return order, amount

    def _amount(self, params: dict[str, Any]) -> int | Response[Any]:
        try:
            amount = int(str(params.get("amount", "")))
        except ValueError:
            return self._failure("1007", "Parameter `amount` is incorrect")
        if amount <= 0:
            return self._failure("1007", "Parameter `amount` is incorrect")
        return amount

    def routes(self) -> list[Any]:
        emulator = self

        @post("/api/checkout/url", status_code=200)
        async def checkout_url(request: Request[Any, Any, Any]) -> Response[Any]:
            params = await emulator._read(request)
            if isinstance(params, Response):
                return params
            for name in ("order_id", "order_desc", "currency"):
                if not params.get(name):
                    return emulator._failure("1011", f"Parameter `{name}` is missing")
            amount = emulator._amount(params)
            if isinstance(amount, Response):
                return amount
            if params["order_id"] in emulator.orders:
                return emulator._failure("1013", f"Duplicate order {params['order_id']} for merchant {emulator.merchant_id}")
            order = emulator.add_order(EmulatedOrder(
                order_id=str(params["order_id"]), amount=amount, currency=str(params["currency"]),
                description=str(params["order_desc"]), kind="authorize" if params.get("preauth") == "Y" else "purchase",
                callback_url=str(params.get("server_callback_url", "")), return_url=str(params.get("response_url", "")),
                save_card=params.get("required_rectoken") == "Y",
                lifetime_s=int(params["lifetime"]) if str(params.get("lifetime", "")).isdigit() else 36000,
                extra={"sender_email": params.get("sender_email", "")},
            ))
            await emulator.stall()
            return emulator._answer({"response_status": "success", "checkout_url": emulator.page_url(order),
                                     "payment_id": order.reference})

        @post("/api/status/order_id", status_code=200)
        async def status(request: Request[Any, Any, Any]) -> Response[Any]:
            found = await emulator._order_call(request, with_amount=False)
            if isinstance(found, Response):
                return found
            order, _ = found
            await emulator.stall()
            return emulator._answer(emulator.order_fields(order))

        @post("/api/reverse/order_id", status_code=200)
        async def reverse(request: Request[Any, Any, Any]) -> Response[Any]:
            found = await emulator._order_call(request, with_amount=True)
            if isinstance(found, Response):
                return found
            order, amount = found
            if order.status not in ("approved", "authorized", "reversed") or amount > order.amount - order.refunded:
                word = "declined"
            else:
                word = "approved"
                order.refunded += amount
                if order.refunded >= order.amount or order.status == "authorized":
                    order.status = "reversed"
                emulator.send_callback(order)
            answer = {"order_id": order.order_id, "merchant_id": str(emulator.merchant_id),
                      "reverse_status": word, "response_status": "success", "reversal_amount": str(amount),
                      "currency": order.currency, "response_code": "" if word == "approved" else "1000",
                      "response_description": "" if word == "approved" else "Reversal is not possible"}
            answer["signature"] = emulator.spoil(signature.signature(emulator.secret_key, answer))
            await emulator.stall()
            return emulator._answer(answer)

        @post("/api/capture/order_id", status_code=200)
        async def capture(request: Request[Any, Any, Any]) -> Response[Any]:
            found = await emulator._order_call(request, with_amount=True)
            if isinstance(found, Response):
                return found
            order, amount = found
            if order.status == "authorized" and amount <= order.amount:
                order.captured, order.status, word = amount, "approved", "captured"
            else:
                word = "declined"
            answer = {"order_id": order.order_id, "merchant_id": str(emulator.merchant_id), "capture_status": word,
                      "response_status": "success", "amount": str(amount), "currency": order.currency}
            answer["signature"] = emulator.spoil(signature.signature(emulator.secret_key, answer))
            await emulator.stall()
            return emulator._answer(answer)

        @post("/api/recurring", status_code=200)
        async def recurring(request: Request[Any, Any, Any]) -> Response[Any]:
            params = await emulator._read(request)
            if isinstance(params, Response):
                return params
            amount = emulator._amount(params)
            if isinstance(amount, Response):
                return amount
            if params.get("order_id") in emulator.orders:
                return emulator._failure("1013", f"Duplicate order {params['order_id']}")
            parent = next((o for o in emulator.orders.values() if o.token and o.token == params.get("rectoken")), None)
            if parent is None:
                return emulator._failure("1007", "Parameter `rectoken` is incorrect")
            order = emulator.add_order(EmulatedOrder(
                order_id=str(params["order_id"]), amount=amount, currency=str(params.get("currency", "")),
                description=str(params.get("order_desc", "")), kind="recurring",
                callback_url=str(params.get("server_callback_url", "")),
            ))
            emulator.settle(order, "declined" if emulator.has(Mode.DECLINED) else "approved")
            order.card_mask, order.card_brand = parent.card_mask, parent.card_brand
            emulator.send_callback(order)
            await emulator.stall()
            return emulator._answer(emulator.order_fields(order))

        @post("/api/p2pcredit", status_code=200)
        async def p2pcredit(request: Request[Any, Any, Any]) -> Response[Any]:
            if not emulator.credit_key:
                return emulator._failure("1006", "Merchant is not configured correctly (no credit key)")
            params = await emulator._read(request, key=emulator.credit_key)
            if isinstance(params, Response):
                return params
            amount = emulator._amount(params)
            if isinstance(amount, Response):
                return amount
            if params.get("order_id") in emulator.orders:
                return emulator._failure("1013", f"Duplicate order {params['order_id']}")
            number = str(params.get("receiver_card_number", ""))
            token = str(params.get("receiver_rectoken", ""))
            parent = next((o for o in emulator.orders.values() if token and o.token == token), None)
            if not number and parent is None:
                return emulator._failure("1011", "Parameter `receiver_card_number` is missing")
            order = emulator.add_order(EmulatedOrder(
                order_id=str(params["order_id"]), amount=amount, currency=str(params.get("currency", "")),
                description=str(params.get("order_desc", "")), kind="payout",
                callback_url=str(params.get("server_callback_url", "")),
            ))
            answer = emulator.issuer_answer(number) if number else (
                "declined" if emulator.has(Mode.DECLINED) else "approved")
            emulator.settle(order, answer, number)
            if parent is not None:
                order.card_mask, order.card_brand = parent.card_mask, parent.card_brand
            emulator.send_callback(order)
            await emulator.stall()
            return emulator._answer(emulator.order_fields(order))

        return [checkout_url, status, reverse, capture, recurring, p2pcredit]


def build_emulator(settings: Any, *, public_url: str, **kwargs: Any) -> FondyEmulator:
    """An emulator for the merchant of the plugin's ``settings``."""
    return FondyEmulator(
        merchant_id=settings.merchant_id,
        secret_key=settings.secret_key.get_secret_value(),
        credit_key=settings.credit_key.get_secret_value() if settings.credit_key else None,
        public_url=public_url,
        **kwargs,
    )

