"""Uniteller's side of the protocol on loopback HTTP.

* ``POST /pay/``: the payment form from the merchant's page (signature checked); shows
  the card page, then sends the browser to ``URL_RETURN_OK`` / ``URL_RETURN_NO``.
* callbacks: a form (``Order_ID``, ``Status``, the ``CallbackFields`` asked for,
  ``Signature``) to the shop's notify URL, which is a back-office setting here too
  (``default_callback_url``);
* ``POST /results/`` (XML), ``/unblock/`` (XML), ``/recurrent/`` (CSV), authenticated by
  ``Shop_ID``/``Login``/``Password``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from litestar import Request, Response, post

from core.contracts.payments import Redirect
from core.money import from_minor, to_minor
from plugins.payments.emulation import EmulatedOrder, Mode, ProviderEmulator, form_pairs
from plugins.payments.uniteller import signature

STATUS_WORDS = {"created": "waiting", "processing": "waiting", "approved": "paid", "authorized": "authorized",
                "declined": "not authorized", "expired": "canceled", "voided": "canceled"}


def callback_extra_fields(requested: str) -> list[str]:
    """The extra fields of a ``CallbackFields`` value, in the order Uniteller sends (and signs) them.

    ``ApprovalCode``, ``BillNumber``, ``Total`` first, the rest by name (the SDK's
    ``CallbackFieldsSorter``). The gateway does not rely on it: it checks them in arrival order.
    """
    names = [n for n in re.split(r"[\s,]+", requested) if n]
    priority = [n for n in ("ApprovalCode", "BillNumber", "Total") if n in names]
    return priority + sorted(set(names) - set(priority))


class UnitellerEmulator(ProviderEmulator):
    provider = "uniteller"
    title = "Uniteller"
    color = "#c8102e"

    def __init__(self, *, shop_id: str, login: str, password: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shop_id = shop_id
        self.login = login
        self.password = password

    def word(self, order: EmulatedOrder) -> str:
        if order.status == "reversed":
            return "canceled" if order.refunded >= order.amount else "paid"
        return STATUS_WORDS[order.status]

    # -- messages --------------------------------------------------------------------------------------

    def callback_values(self, order: EmulatedOrder) -> dict[str, str]:
        return {
            "Total": f"{from_minor(order.amount, order.currency):.2f}",
            "BillNumber": order.reference,
            "ApprovalCode": order.reference[-6:] if order.status in ("approved", "authorized") else "",
            "CardNumber": order.card_mask,
            "Customer_IDP": order.extra.get("customer", ""),
        }

    def callback_message(self, order: EmulatedOrder) -> tuple[bytes, str]:
        status = self.word(order)
        values = self.callback_values(order)
        extra = [(name, values.get(name, "")) for name in callback_extra_fields(order.extra.get("callback_fields", ""))]
        sign = signature.callback_signature(order.order_id, status, [v for _n, v in extra], self.password)
        fields = [("Order_ID", order.order_id), ("Status", status), *extra, ("Signature", self.spoil(sign))]
        return urlencode(fields).encode(), "application/x-www-form-urlencoded"

    def return_target(self, order: EmulatedOrder) -> Redirect | None:
        ok = order.status in ("approved", "authorized")
        url = order.extra.get("url_ok" if ok else "url_no") or order.return_url
        return Redirect(url, "GET", (("Order_ID", order.order_id),)) if url else None

    def order_xml(self, order: EmulatedOrder) -> str:
        fields = {
            "ordernumber": order.order_id, "response_code": "AS000" if order.status != "declined" else "AS100",
            "date": order.created_at.strftime("%d.%m.%Y %H:%M:%S"),
            "total": f"{from_minor(order.amount, order.currency):.2f}", "currency": order.currency,
            "cardnumber": order.card_mask, "status": self.word(order), "approvalcode": order.reference[-6:],
            "billnumber": order.reference, "error_comment": order.decline_reason.replace("_", " "),
        }
        return "<order>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items()) + "</order>"

    def _xml(self, orders: list[EmulatedOrder], firstcode: str = "0", secondcode: str = "") -> Response[str]:
        body = (f'<?xml version="1.0" encoding="utf-8"?><unitellerresult firstcode="{firstcode}" '
                f'secondcode="{escape(secondcode)}" count="{len(orders)}"><orders>'
                + "".join(self.order_xml(o) for o in orders) + "</orders></unitellerresult>")
        return Response(body, media_type="text/xml")

    def _authorized(self, fields: dict[str, str]) -> bool:
        return (fields.get("Shop_ID") == self.shop_id and fields.get("Login") == self.login
                and fields.get("Password") == self.password)

    # -- endpoints ------------------------------------------------------------------------------------------

    def routes(self) -> list[Any]:
        emulator = self

        @post("/pay", status_code=200)
        async def pay(request: Request[Any, Any, Any]) -> Response[Any]:
            fields = dict(form_pairs(await request.body()))
            if fields.get("Shop_IDP") != emulator.shop_id:
                return emulator.error_page("Unknown shop (Shop_IDP).")
            signed = {name: fields.get(name, "") for name in signature.PAYMENT_FIELDS}
            if not signature.safe_signature_equal(signature.payment_signature(signed, emulator.password),
                                                  fields.get("Signature", "")):
                return emulator.error_page("Signature is wrong.")
            order_id = fields.get("Order_IDP", "")
            existing = emulator.find(order_id)
            if existing is not None:
                return emulator.card_page(existing) if existing.status == "created" else \
                    emulator.error_page(f"Order {order_id} has already been paid or cancelled.")
            currency = fields.get("Currency") or "RUB"
            try:
                amount = to_minor(Decimal(fields.get("Subtotal_P", "")), currency)
            except (InvalidOperation, ValueError):
                return emulator.error_page("Subtotal_P is not an amount.")
            order = emulator.add_order(EmulatedOrder(
                order_id=order_id, amount=amount, currency=currency, description=fields.get("Comment", ""),
                kind="authorize" if fields.get("Preauth") == "1" else "purchase",
                save_card=fields.get("IsRecurrentStart") == "1",
                lifetime_s=int(fields["Lifetime"]) if fields.get("Lifetime", "").isdigit() else None,
                extra={"url_ok": fields.get("URL_RETURN_OK", ""), "url_no": fields.get("URL_RETURN_NO", ""),
                       "callback_fields": fields.get("CallbackFields", ""), "customer": fields.get("Customer_IDP", "")},
            ))
            return emulator.card_page(order)

        @post("/results", status_code=200)
        async def results(request: Request[Any, Any, Any]) -> Response[Any]:
            fields = dict(form_pairs(await request.body()))
            if not emulator._authorized(fields):
                return emulator._xml([], "1", "Authorization error")
            if fields.get("ShopOrderNumber"):
                found = [o for o in emulator.orders.values() if o.order_id == fields["ShopOrderNumber"]]
            else:
                try:
                    start = dt.date(int(fields["StartYear"]), int(fields["StartMonth"]), int(fields["StartDay"]))
                    end = dt.date(int(fields["EndYear"]), int(fields["EndMonth"]), int(fields["EndDay"]))
                except (KeyError, ValueError):
                    return emulator._xml([], "2", "ShopOrderNumber or a period is required")
                found = [o for o in emulator.orders.values() if start <= o.created_at.date() <= end]
            # Orders the customer never paid are not results yet (until they expire).
            for order in found:
                order.expire_if_overdue()
            found = [o for o in found if o.status != "created"]
            await emulator.stall()
            return emulator._xml(found)

        @post("/unblock", status_code=200)
        async def unblock(request: Request[Any, Any, Any]) -> Response[Any]:
            fields = dict(form_pairs(await request.body()))
            if not emulator._authorized(fields):
                return emulator._xml([], "1", "Authorization error")
            order = next((o for o in emulator.orders.values() if o.reference == fields.get("Billnumber")), None)
            if order is None:
                return emulator._xml([], "3", "Payment not found")
            try:
                amount = to_minor(Decimal(fields.get("Subtotal_P") or "0"), order.currency) or order.amount
            except (InvalidOperation, ValueError):
                return emulator._xml([], "2", "Subtotal_P is not an amount")
            if order.status not in ("approved", "authorized", "reversed") or amount > order.amount - order.refunded:
                return emulator._xml([], "4", "Cancellation is not possible")
            order.refunded += amount
            order.status = "reversed"
            emulator.send_callback(order)
            await emulator.stall()
            return emulator._xml([order])

        @post("/recurrent", status_code=200)
        async def recurrent(request: Request[Any, Any, Any]) -> Response[Any]:
            fields = dict(form_pairs(await request.body()))
            expected = signature.recurrent_signature(fields.get("Shop_IDP", ""), fields.get("Order_IDP", ""),
                                                     fields.get("Subtotal_P", ""), fields.get("Parent_Order_IDP", ""),
                                                     emulator.password)
            if fields.get("Shop_IDP") != emulator.shop_id or not signature.safe_signature_equal(
                    expected, fields.get("Signature", "")):
                return _csv([["ErrorCode", "ErrorMessage"], ["1", "Signature is wrong"]])
            parent = emulator.find(fields.get("Parent_Order_IDP", ""))
            if parent is None or not parent.save_card or parent.status not in ("approved", "reversed"):
                return _csv([["ErrorCode", "ErrorMessage"], ["2", "Parent order cannot be used for recurrent payments"]])
            if fields.get("Order_IDP", "") in emulator.orders:
                return _csv([["ErrorCode", "ErrorMessage"], ["3", "Order already exists"]])
            try:
                amount = to_minor(Decimal(fields.get("Subtotal_P", "")), parent.currency)
            except (InvalidOperation, ValueError):
                return _csv([["ErrorCode", "ErrorMessage"], ["4", "Subtotal_P is not an amount"]])
            order = emulator.add_order(EmulatedOrder(order_id=fields["Order_IDP"], amount=amount,
                                                     currency=parent.currency, kind="recurring",
                                                     extra={"callback_fields": parent.extra.get("callback_fields", "")}))
            emulator.settle(order, "declined" if emulator.has(Mode.DECLINED) else "approved")
            order.card_mask = parent.card_mask
            emulator.send_callback(order)
            await emulator.stall()
            return _csv([["OrderNumber", "Status", "Total", "Currency", "ApprovalCode", "BillNumber"],
                         [order.order_id, emulator.word(order), f"{from_minor(amount, order.currency):.2f}",
                          order.currency, order.reference[-6:], order.reference]])

        return [pay, results, unblock, recurrent]


def _csv(rows: list[list[str]]) -> Response[str]:
    return Response("\r\n".join(";".join(r) for r in rows) + "\r\n", media_type="text/plain")


def build_emulator(settings: Any, *, public_url: str, **kwargs: Any) -> UnitellerEmulator:
    return UnitellerEmulator(shop_id=settings.shop_id, login=settings.login,
                             password=settings.password.get_secret_value(), public_url=public_url, **kwargs)
