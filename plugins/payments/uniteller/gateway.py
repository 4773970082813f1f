"""Uniteller: the wire protocol and nothing else.

* Purchase is a form the customer's browser posts to ``{api_url}/pay/``, signed with the
  chained MD5 of :func:`.signature.payment_signature`.
* The shop's notify URL (set in Uniteller's back office) receives ``Order_ID``,
  ``Status``, the extra fields asked for with ``CallbackFields`` and ``Signature``; any
  HTTP 200 acknowledges it.
* Back-office calls are forms posted with ``Shop_ID``, ``Login``, ``Password``:
  ``/results/`` (status, and lists of payments: XML, ``Format=4``), ``/unblock/``
  (cancel or refund by bill number: XML, ``Format=3``) and ``/recurrent/`` (charge a
  card saved by an earlier order: CSV).

Amounts are decimals with a dot and two places (``10.00``). Uniteller serves one
currency per shop (roubles, by default).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
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
from plugins.payments.uniteller import signature
from plugins.payments.wire import Wire, WireFailure, WireResponse, unseen_order

PRODUCTION_URL = "https://wpay.uniteller.ru"

ORDER_STATUSES: dict[str, GatewayStatus] = {
    "new": GatewayStatus.PENDING,
    "waiting": GatewayStatus.PENDING,
    # Money blocked on the card; Uniteller confirms it automatically unless the shop pre-authorises.
    "authorized": GatewayStatus.PROCESSED,
    "paid": GatewayStatus.PROCESSED,
    "not authorized": GatewayStatus.ERROR,
    "cancelled": GatewayStatus.CANCELED,
    "canceled": GatewayStatus.CANCELED,
}
#: Which answer wins when ``results`` lists several attempts of one order.
_RANK = {"paid": 6, "authorized": 5, "waiting": 4, "new": 3, "canceled": 2, "cancelled": 2, "not authorized": 1}
UNREADABLE = "unreadable_answer"
#: Extra callback fields we ask for: the amount (to check it) and what identifies the payment.
CALLBACK_FIELDS = ("Total", "BillNumber", "ApprovalCode", "CardNumber")


def subtotal_text(amount: Money) -> str:
    return f"{amount.amount:.2f}"


class UnitellerGateway(GatewayDefaults):
    name = "uniteller"
    title = "Uniteller"
    supports_redirect = True
    supports_refund = True
    supports_partial_refund = True
    supports_recurring = True
    supports_callbacks = True
    supports_listing = True

    def __init__(
        self,
        *,
        shop_id: str,
        login: str,
        password: str,
        api_url: str = PRODUCTION_URL,
        currency: str = "RUB",
        lifetime_s: int = 3600,
        timeout_s: float = 30,
        transport: httpx.AsyncBaseTransport | None = None,
        name: str = "uniteller",
    ) -> None:
        self.name = name
        self.shop_id = shop_id
        self.login = login
        self.password = password
        self.api_url = api_url.rstrip("/")
        self.currency = currency
        self.currencies = frozenset({currency})
        self.lifetime_s = lifetime_s
        self.wire = Wire(timeout_s, transport)

    # -- the payment page ------------------------------------------------------------------------------

    def payment_form(self, request: PaymentRequest) -> list[tuple[str, str]]:
        signed = {
            "Shop_IDP": self.shop_id,
            "Order_IDP": request.payment_id,
            "Subtotal_P": subtotal_text(request.amount),
            "Lifetime": str(self.lifetime_s),
            "Customer_IDP": request.customer.id,
        }
        fields = [
            *signed.items(),
            ("URL_RETURN_OK", request.return_url),
            ("URL_RETURN_NO", request.return_url),
            ("Email", request.customer.email),
            ("Phone", request.customer.phone),
            ("Language", "en" if request.customer.language == "en" else "ru"),
            ("Currency", request.amount.currency),
            ("Comment", request.description[:1024]),
            ("IsRecurrentStart", "1" if request.save_card else ""),
            ("CallbackFields", " ".join(CALLBACK_FIELDS)),
            ("Signature", signature.payment_signature(signed, self.password)),
        ]
        return [(k, v) for k, v in fields if v != ""]

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        if request.amount.currency != self.currency:
            return GatewayResult(GatewayStatus.CANCELED, Operation.PURCHASE, request.payment_id,
                                 error_code="currency_not_supported",
                                 error_message=f"this Uniteller shop takes {self.currency} only")
        return GatewayResult(GatewayStatus.PENDING, Operation.PURCHASE, request.payment_id, amount=request.amount,
                             provider_status="new",
                             redirect=Redirect(f"{self.api_url}/pay/", "POST", tuple(self.payment_form(request))))

    # -- back-office calls ---------------------------------------------------------------------------------

    def _credentials(self) -> dict[str, str]:
        return {"Shop_ID": self.shop_id, "Login": self.login, "Password": self.password}

    async def _results(self, query: dict[str, str]) -> list[dict[str, str]] | WireFailure | GatewayResult:
        answer = await self.wire.post(f"{self.api_url}/results/", form={**self._credentials(), "Format": "4", **query})
        if isinstance(answer, WireFailure):
            return answer
        return _parse_orders(answer)

    async def status(self, payment: PaymentRef) -> GatewayResult:
        orders = await self._results({"ShopOrderNumber": payment.payment_id})
        if isinstance(orders, WireFailure):
            return orders.result(Operation.STATUS, payment.payment_id)
        if isinstance(orders, GatewayResult):
            return _for(orders, Operation.STATUS, payment.payment_id)
        if not orders:
            return unseen_order(payment, self.lifetime_s, "not_found", "Uniteller has no such order")
        best = max(orders, key=lambda o: _RANK.get(o.get("status", "").lower(), 0))
        return self._order_result(best, Operation.STATUS)

    async def transactions(self, since: dt.datetime, until: dt.datetime) -> Sequence[GatewayResult]:
        query = {"StartDay": str(since.day), "StartMonth": str(since.month), "StartYear": str(since.year),
                 "EndDay": str(until.day), "EndMonth": str(until.month), "EndYear": str(until.year)}
        orders = await self._results(query)
        if not isinstance(orders, list):
            return ()
        return [self._order_result(o, Operation.STATUS) for o in orders]

    async def refund(self, payment: PaymentRef, amount: Money, refund_id: str) -> GatewayResult:
        return await self._unblock(payment, amount, Operation.REFUND)

    async def _unblock(self, payment: PaymentRef, amount: Money, operation: Operation) -> GatewayResult:
        bill = payment.reference
        if not bill:
            # Refunds go by Uniteller's bill number: look it up first.
            known = await self.status(payment)
            bill = known.reference
            if not bill:
                return GatewayResult(GatewayStatus.ERROR, operation, payment.payment_id, error_code="not_found",
                                     error_message="Uniteller has no bill number for this order")
        form = {**self._credentials(), "Billnumber": bill, "Subtotal_P": subtotal_text(amount), "Format": "3"}
        answer = await self.wire.post(f"{self.api_url}/unblock/", form=form)
        if isinstance(answer, WireFailure):
            return answer.result(operation, payment.payment_id)
        orders = _parse_orders(answer)
        if isinstance(orders, GatewayResult):
            # A refusal (firstcode) is a refusal; an answer we cannot read may follow a refund that was made.
            refused = orders.error_code != UNREADABLE
            return _for(orders, operation, payment.payment_id, business=refused)
        return GatewayResult(GatewayStatus.PROCESSED, operation, payment.payment_id, amount=amount, reference=bill,
                             provider_status=orders[0].get("status", "") if orders else "")

    async def charge(self, request: PaymentRequest) -> GatewayResult:
        subtotal = subtotal_text(request.amount)
        form = {
            "Shop_IDP": self.shop_id,
            "Order_IDP": request.payment_id,
            "Subtotal_P": subtotal,
            "Parent_Order_IDP": request.card_token,
            "Signature": signature.recurrent_signature(self.shop_id, request.payment_id, subtotal, request.card_token,
                                                       self.password),
        }
        answer = await self.wire.post(f"{self.api_url}/recurrent/", form=form)
        if isinstance(answer, WireFailure):
            return answer.result(Operation.RECURRING, request.payment_id)
        rows = _parse_csv(answer.text)
        if not rows:
            return GatewayResult(GatewayStatus.UNDEFINED, Operation.RECURRING, request.payment_id,
                                 error_code="unreadable_answer", error_message="Uniteller's answer has no rows")
        row = rows[0]
        if "errorcode" in row:
            return GatewayResult(GatewayStatus.ERROR, Operation.RECURRING, request.payment_id,
                                 error_code=row.get("errorcode", ""), error_message=row.get("errormessage", ""))
        return self._order_result(row, Operation.RECURRING)

    # -- answers and callbacks ------------------------------------------------------------------------------

    def _order_result(self, order: Mapping[str, str], operation: Operation) -> GatewayResult:
        word = order.get("status", "").lower()
        status = ORDER_STATUSES.get(word, GatewayStatus.UNDEFINED)
        amount = _money(order.get("total", ""), order.get("currency") or self.currency)
        return GatewayResult(
            status, operation, order.get("ordernumber", ""), amount=amount, reference=order.get("billnumber", ""),
            provider_status=word,
            error_code=order.get("response_code", "") if status is GatewayStatus.ERROR else "",
            error_message=order.get("error_comment", "") if status is GatewayStatus.ERROR else "",
            details={k: order[k] for k in ("cardnumber", "approvalcode", "date") if order.get(k)},
        )

    def parse_callback(self, callback: CallbackRequest) -> Notification:
        text = callback.body.decode("utf-8", "replace")
        pairs = parse_qsl(text, keep_blank_values=True)
        fields = dict(pairs)
        payment_id = fields.get("Order_ID", "")
        if not payment_id or "Status" not in fields or not fields.get("Signature"):
            return Notification(False, payment_id=payment_id, problem="malformed: Order_ID, Status or Signature missing")
        # Extra fields are signed in the order they arrive, between Status and the password.
        extra = [v for k, v in pairs if k not in ("Order_ID", "Status", "Signature")]
        if not signature.is_valid_callback(payment_id, fields["Status"], extra, self.password, fields["Signature"]):
            return Notification(False, payment_id=payment_id, problem="bad signature")
        word = fields["Status"].lower()
        status = ORDER_STATUSES.get(word, GatewayStatus.UNDEFINED)
        card = None
        if status is GatewayStatus.PROCESSED:
            # A paid order can be the parent of later recurrent charges (if it started them).
            card = SavedCard(token=payment_id, masked_pan=fields.get("CardNumber", ""))
        result = GatewayResult(
            status, Operation.PURCHASE, payment_id,
            # Without Total in the callback the amount is unknown here; the payments plugin asks.
            amount=_money(fields.get("Total", ""), self.currency) if "Total" in fields else None,
            reference=fields.get("BillNumber", ""), provider_status=word, card=card,
            details={k: fields[k] for k in ("ApprovalCode", "CardNumber") if fields.get(k)},
        )
        return Notification(True, payment_id=payment_id, result=result)

    def acknowledge(self, notification: Notification, accepted: bool) -> CallbackReply:
        return CallbackReply() if accepted else CallbackReply(400, b"rejected")


def _for(result: GatewayResult, operation: Operation, payment_id: str, business: bool = False) -> GatewayResult:
    status = GatewayStatus.ERROR if business else result.status
    return GatewayResult(status, operation, payment_id, error_code=result.error_code,
                         error_message=result.error_message)


def _money(text: str, currency: str) -> Money | None:
    try:
        return Money.of(Decimal(text.replace(",", ".").strip()), currency)
    except (InvalidOperation, MoneyError, ValueError):
        return None


def _parse_orders(answer: WireResponse) -> list[dict[str, str]] | GatewayResult:
    """The ``unitellerresult`` XML: its orders, or an error result when ``firstcode`` is not 0."""
    try:
        root = ET.fromstring(answer.text)
        if root.tag.lower() != "unitellerresult":
            raise ET.ParseError(f"<{root.tag}> is not <unitellerresult>")  # a proxy's error page, say
    except ET.ParseError:
        text = answer.text.strip()
        # Errors of the back office come as plain text ("ErrorCode: ..."), not XML.
        return GatewayResult(GatewayStatus.UNDEFINED, Operation.STATUS, "", error_code=UNREADABLE,
                             error_message=f"Uniteller answered: {text[:200]}")
    if root.get("firstcode", "0") not in ("0", ""):
        return GatewayResult(GatewayStatus.UNDEFINED, Operation.STATUS, "", error_code=root.get("firstcode", ""),
                             error_message=root.get("secondcode", ""))
    orders = []
    for order in root.iter("order"):
        orders.append({child.tag.lower(): (child.text or "").strip() for child in order})
    return orders


def _parse_csv(text: str) -> list[dict[str, str]]:
    """A header row naming the fields, then data rows; ``;``-separated."""
    reader = csv.reader(io.StringIO(text.strip()), delimiter=";")
    rows = list(reader)
    if len(rows) < 2:
        return []
    header = [re.sub(r"[^a-z_]", "", h.lower()) for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]
