"""Provider emulators: what every gateway's ``emulator.py`` builds on.

An emulator plays the provider's whole role on loopback HTTP, so the gateways, the
payments plugin and the demo can run with no network and no merchant account:

* the **hosted payment page** where the customer types a card (test cards decide the
  outcome, see :data:`TEST_CARDS`), then is sent back to the merchant;
* **server callbacks** to the merchant, signed like the real ones, retried when the
  merchant does not acknowledge them;
* the provider's **API**: status, refund, capture, recurring charges... (each
  provider's subclass adds its routes in the provider's own format);
* switchable **failure modes** (:class:`Mode`): declined, timeout, duplicate callback,
  delayed callback, no callback, wrong signature.

A control page at ``/_emulator`` shows the orders and callbacks and switches the modes;
``POST /_emulator/modes`` does the same for scripts. The state lives in memory.

:class:`HostedPageCustomer` drives a hosted page over HTTP the way a browser would; the
gateway contract suite and the payments tests use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import json
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect as RedirectResponse

from core.contracts.payments import Redirect

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "emulator_templates"

#: Card numbers the hosted pages understand, and what the "issuer" answers.
TEST_CARDS: dict[str, str] = {
    "4444555511116666": "approved",
    "4444555566661111": "approved",
    "5555555555554444": "approved",
    "4000000000000002": "declined",
    "4000000000009995": "insufficient_funds",
}
APPROVED_CARD = "4444555511116666"
DECLINED_CARD = "4000000000000002"

#: The pages set their own policy: they are the provider's pages, not the platform's,
#: and they post the customer back to the merchant's site.
PAGE_SECURITY_POLICY = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; form-action *; frame-ancestors 'none'"
)


class Mode(StrEnum):
    #: Every card payment is declined by the "issuer".
    DECLINED = "declined"
    #: API calls are carried out but answered only after ``stall_s`` (longer than any client waits).
    TIMEOUT = "timeout"
    #: Each callback is delivered twice.
    DUPLICATE_CALLBACK = "duplicate_callback"
    #: Callbacks leave ``callback_delay_s`` after the event.
    DELAYED_CALLBACK = "delayed_callback"
    #: Callbacks are never sent: only a status query tells what happened.
    NO_CALLBACK = "no_callback"
    #: Callbacks and API answers carry a signature made with the wrong key.
    WRONG_SIGNATURE = "wrong_signature"


@dataclass
class EmulatedOrder:
    """One order at the emulated provider, in a provider-neutral vocabulary.

    ``status`` is one of ``created``, ``processing``, ``approved``, ``authorized``,
    ``declined``, ``expired``, ``reversed``, ``voided``; each provider maps it to its own
    words when it answers.
    """

    order_id: str
    amount: int  # minor units
    currency: str
    description: str = ""
    kind: str = "purchase"  # purchase, authorize, recurring, payout
    status: str = "created"
    reference: str = field(default_factory=lambda: str(secrets.randbelow(10**9) + 10**9))
    session: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    processed_at: dt.datetime | None = None
    callback_url: str = ""
    return_url: str = ""
    save_card: bool = False
    card_mask: str = ""
    card_brand: str = ""
    token: str = ""
    decline_reason: str = ""
    refunded: int = 0
    captured: int = 0
    #: Seconds the customer has to pay; after that an unpaid order expires.
    lifetime_s: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def expire_if_overdue(self) -> None:
        if self.status == "created" and self.lifetime_s is not None and (
                dt.datetime.now(dt.UTC) - self.created_at).total_seconds() > self.lifetime_s:
            self.status = "expired"
            self.processed_at = dt.datetime.now(dt.UTC)

    def as_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id, "amount": self.amount, "currency": self.currency, "kind": self.kind,
            "status": self.status, "reference": self.reference, "card": self.card_mask, "token": bool(self.token),
            "refunded": self.refunded, "captured": self.captured, "created_at": self.created_at.isoformat(),
        }


@dataclass
class SentCallback:
    order_id: str
    url: str
    status_code: int | None
    at: dt.datetime
    note: str = ""


def mask_card(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return f"{digits[:6]}XXXXXX{digits[-4:]}" if len(digits) >= 12 else "XXXX"


def card_brand(number: str) -> str:
    return {"4": "VISA", "5": "MasterCard", "2": "MIR"}.get(number[:1], "CARD")


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """Form fields in the order they came, repeated names kept (``productName[]``)."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


class ProviderEmulator:
    """The common part of an emulated provider. Subclasses add the wire protocol."""

    provider = ""
    title = ""
    #: Accent colour of the hosted page, so the demo shows whose page it is.
    color = "#0b6e4f"

    def __init__(
        self,
        *,
        public_url: str = "http://127.0.0.1:9000",
        callback_transport: httpx.AsyncBaseTransport | None = None,
        callback_delay_s: float = 3.0,
        stall_s: float = 35.0,
        retry_delays: Iterable[float] = (2, 10, 60),
        modes: Iterable[Mode | str] = (),
        default_callback_url: str = "",
    ) -> None:
        self.public_url = public_url.rstrip("/")
        #: Where callbacks go when the request named no URL (a merchant back-office setting).
        self.default_callback_url = default_callback_url
        self.callback_transport = callback_transport
        self.callback_delay_s = callback_delay_s
        self.stall_s = stall_s
        self.retry_delays = tuple(retry_delays)
        self.modes: set[Mode] = {Mode(m) for m in modes}
        self.orders: dict[str, EmulatedOrder] = {}
        self.callbacks: list[SentCallback] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
        self._app: Litestar | None = None

    # -- what subclasses provide ------------------------------------------------------

    def routes(self) -> list[Any]:
        """The provider's own endpoints (API calls, the entry of its payment page)."""
        return []

    def callback_message(self, order: EmulatedOrder) -> tuple[bytes, str] | None:
        """The signed callback body for ``order`` and its content type; None: no callback."""
        return None

    def return_target(self, order: EmulatedOrder) -> Redirect | None:
        """How the customer's browser goes back to the merchant after the page."""
        return Redirect(order.return_url) if order.return_url else None

    def callback_url(self, order: EmulatedOrder) -> str:
        return order.callback_url or self.default_callback_url

    def accepted(self, response: httpx.Response) -> bool:
        """Whether the merchant acknowledged a callback (most providers: HTTP 200)."""
        return response.status_code == 200

    # -- switches -------------------------------------------------------------------------

    def set_modes(self, modes: Iterable[Mode | str]) -> None:
        self.modes = {Mode(m) for m in modes}

    def has(self, mode: Mode) -> bool:
        return mode in self.modes

    def spoil(self, signature: str) -> str:
        """A signature made with the wrong key, when that failure mode is on."""
        if Mode.WRONG_SIGNATURE not in self.modes:
            return signature
        return "".join("0" if c != "0" else "1" for c in signature[:8]) + signature[8:]

    async def stall(self) -> None:
        """In timeout mode: the work is done, but the answer comes too late."""
        if Mode.TIMEOUT in self.modes:
            await asyncio.sleep(self.stall_s)

    def reset(self) -> None:
        self.modes.clear()
        self.orders.clear()
        self.callbacks.clear()

    # -- orders and the customer -------------------------------------------------------------

    def add_order(self, order: EmulatedOrder) -> EmulatedOrder:
        self.orders[order.order_id] = order
        return order

    def find(self, order_id: str) -> EmulatedOrder | None:
        order = self.orders.get(order_id)
        if order is not None:
            order.expire_if_overdue()
        return order

    def by_session(self, session: str) -> EmulatedOrder | None:
        order = next((o for o in self.orders.values() if o.session == session), None)
        if order is not None:
            order.expire_if_overdue()
        return order

    def page_url(self, order: EmulatedOrder) -> str:
        return f"{self.public_url}/_page/{order.session}"

    def issuer_answer(self, card_number: str) -> str:
        """What the card's issuer says: ``approved``, ``declined``, ``insufficient_funds``..."""
        if Mode.DECLINED in self.modes:
            return "declined"
        digits = re.sub(r"\D", "", card_number)
        if digits in TEST_CARDS:
            return TEST_CARDS[digits]
        return "approved" if _luhn_ok(digits) else "invalid_card"

    def settle(self, order: EmulatedOrder, answer: str, card_number: str = "") -> EmulatedOrder:
        """Record the outcome of a card operation on ``order``."""
        order.processed_at = dt.datetime.now(dt.UTC)
        if card_number:
            order.card_mask = mask_card(card_number)
            order.card_brand = card_brand(card_number)
        if answer == "approved":
            order.status = "authorized" if order.kind == "authorize" else "approved"
            if order.save_card and not order.token:
                order.token = secrets.token_hex(20)
        else:
            order.status = "declined"
            order.decline_reason = answer
        return order

    async def customer_pays(self, order: EmulatedOrder, card_number: str) -> EmulatedOrder:
        self.settle(order, self.issuer_answer(card_number), card_number)
        self.send_callback(order)
        return order

    async def customer_cancels(self, order: EmulatedOrder) -> EmulatedOrder:
        order.status = "expired"
        order.processed_at = dt.datetime.now(dt.UTC)
        self.send_callback(order)
        return order

    # -- callbacks ------------------------------------------------------------------------------

    def send_callback(self, order: EmulatedOrder, *, force: bool = False) -> None:
        """Post the callback of ``order``'s current state, honouring the failure modes."""
        if Mode.NO_CALLBACK in self.modes and not force:
            self.callbacks.append(SentCallback(order.order_id, "", None, dt.datetime.now(dt.UTC), "dropped"))
            return
        message = self.callback_message(order)
        url = self.callback_url(order)
        if message is None or not url:
            return
        delay = self.callback_delay_s if Mode.DELAYED_CALLBACK in self.modes and not force else 0.0
        copies = 2 if Mode.DUPLICATE_CALLBACK in self.modes and not force else 1
        for copy in range(copies):
            self._spawn(self._deliver(order.order_id, url, message, delay + copy * 0.05))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, order_id: FromPath[str], url: str, message: tuple[bytes, str], delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        body, content_type = message
        for attempt, pause in enumerate((0.0, *self.retry_delays)):
            if pause:
                await asyncio.sleep(pause)
            status: int | None = None
            note = "" if attempt == 0 else f"retry {attempt}"
            try:
                async with httpx.AsyncClient(transport=self.callback_transport, timeout=10) as client:
                    response = await client.post(url, content=body, headers={"content-type": content_type})
                status = response.status_code
                if self.accepted(response):
                    self.callbacks.append(SentCallback(order_id, url, status, dt.datetime.now(dt.UTC), note))
                    return
                note = f"{note} not acknowledged".strip()
            except httpx.HTTPError as exc:
                note = f"{note} {exc!r}".strip()
            self.callbacks.append(SentCallback(order_id, url, status, dt.datetime.now(dt.UTC), note))
            if status is not None and 400 <= status < 500 and status != 429:
                # The merchant refuses this callback: sending it again will not help.
                return

    async def idle(self) -> None:
        """Wait until every callback in flight has been delivered (tests and scripts)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- pages ------------------------------------------------------------------------------------

    def page(self, template: str, status_code: int = 200, **context: Any) -> Response[str]:
        text = self._env.get_template(template).render(emulator=self, modes=list(Mode), **context)
        return Response(text, status_code=status_code, media_type=MediaType.HTML,
                        headers={"content-security-policy": PAGE_SECURITY_POLICY, "cache-control": "no-store"})

    def card_page(self, order: EmulatedOrder, error: str = "") -> Response[str]:
        return self.page("card.html", order=order, action=f"{self.public_url}/_page/{order.session}",
                         cards=TEST_CARDS, error=error, amount=_display_amount(order.amount, order.currency))

    def return_page(self, order: EmulatedOrder) -> Response[str]:
        target = self.return_target(order)
        return self.page("return.html", order=order, target=target,
                         amount=_display_amount(order.amount, order.currency))

    def error_page(self, message: str, status_code: int = 400) -> Response[str]:
        return self.page("error.html", status_code=status_code, message=message)

    def app(self) -> Litestar:
        """The emulator as an ASGI application (built once)."""
        if self._app is None:
            self._app = Litestar(route_handlers=[*self._common_routes(), *self.routes()], debug=False,
                                 openapi_config=None)
        return self._app

    def _common_routes(self) -> list[Any]:
        emulator = self

        @get("/_page/{session:str}")
        async def show_page(session: FromPath[str]) -> Response[str]:
            order = emulator.by_session(session)
            if order is None:
                return emulator.error_page("This payment page has expired or never existed.", 404)
            if order.status != "created":
                return emulator.return_page(order)
            return emulator.card_page(order)

        @post("/_page/{session:str}", status_code=200)
        async def submit_page(session: FromPath[str], request: Request[Any, Any, Any]) -> Response[str]:
            order = emulator.by_session(session)
            if order is None:
                return emulator.error_page("This payment page has expired or never existed.", 404)
            if order.status != "created":
                return emulator.return_page(order)
            fields = dict(form_pairs(await request.body()))
            if fields.get("action") == "cancel":
                await emulator.customer_cancels(order)
                return emulator.return_page(order)
            number = re.sub(r"\D", "", fields.get("card_number", ""))
            if len(number) < 12:
                return emulator.card_page(order, error="Enter the card number (12 to 19 digits).")
            await emulator.customer_pays(order, number)
            return emulator.return_page(order)

        @get("/_emulator")
        async def control_page() -> Response[str]:
            orders = sorted(emulator.orders.values(), key=lambda o: o.created_at, reverse=True)
            return emulator.page("control.html", orders=orders[:50], callbacks=emulator.callbacks[-50:][::-1])

        @post("/_emulator/modes", status_code=200)
        async def set_modes(request: Request[Any, Any, Any]) -> Any:
            body = await request.body()
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    wanted = json.loads(body or b"{}").get("modes", [])
                    emulator.set_modes(wanted)
                except (ValueError, AttributeError, TypeError):
                    return Response({"detail": f"modes must be a list of: {', '.join(Mode)}"}, status_code=400)
                return {"modes": sorted(emulator.modes)}
            try:
                emulator.set_modes(v for k, v in form_pairs(body) if k == "mode")
            except ValueError:
                return emulator.error_page(f"Unknown mode; known: {', '.join(Mode)}")
            return RedirectResponse(f"{emulator.public_url}/_emulator", status_code=303)

        @get("/_emulator/orders")
        async def list_orders() -> dict[str, Any]:
            return {"modes": sorted(emulator.modes), "orders": [o.as_json() for o in emulator.orders.values()],
                    "callbacks": [{"order_id": c.order_id, "url": c.url, "status": c.status_code,
                                   "at": c.at.isoformat(), "note": c.note} for c in emulator.callbacks]}

        @post("/_emulator/orders/{order_id:str}/callback", status_code=200)
        async def resend_callback(order_id: FromPath[str]) -> Any:
            order = emulator.find(order_id)
            if order is None:
                return Response({"detail": f"no order {order_id!r}"}, status_code=404)
            emulator.send_callback(order, force=True)
            return {"sent": order_id}

        return [show_page, submit_page, control_page, set_modes, list_orders, resend_callback]


def _luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _display_amount(minor: int, currency: str) -> str:
    from core.money import format_money

    try:
        return format_money(minor, currency, "en")
    except Exception:
        return f"{minor} {currency}"


# -- driving a hosted page like a browser ------------------------------------------------------------

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_INPUT = re.compile(r"<input\b([^>]*)>", re.I)


@dataclass(frozen=True)
class HtmlForm:
    action: str
    method: str
    fields: tuple[tuple[str, str], ...]


def find_form(page: str, form_id: str) -> HtmlForm | None:
    """The form with ``id=form_id`` in ``page``: its action, method and named inputs."""
    for attrs_text, inner in _FORM.findall(page):
        attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(attrs_text)}
        if attrs.get("id") != form_id:
            continue
        fields = []
        for input_attrs in _INPUT.findall(inner):
            a = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(input_attrs)}
            if "name" in a and a.get("type", "text") != "submit":
                fields.append((a["name"], a.get("value", "")))
        return HtmlForm(attrs.get("action", ""), attrs.get("method", "get").upper(), tuple(fields))
    return None


class HostedPageCustomer:
    """A customer on a provider's hosted page, over plain HTTP (no browser needed)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.transport = transport

    async def open(self, client: httpx.AsyncClient, redirect: Redirect) -> httpx.Response:
        if redirect.method.upper() == "POST":
            return await client.post(redirect.url, content=urlencode(_multi(redirect.fields)).encode(),
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        return await client.get(redirect.url, params=_multi(redirect.fields) or None)

    async def pay(self, redirect: Redirect, card_number: str = APPROVED_CARD, *, cancel: bool = False) -> HtmlForm:
        """Open the page, pay (or cancel); return the form that would take the browser back."""
        async with httpx.AsyncClient(transport=self.transport, follow_redirects=True, timeout=10) as client:
            opened = await self.open(client, redirect)
            if opened.status_code != 200:
                raise AssertionError(f"hosted page answered {opened.status_code}: {opened.text[:300]}")
            card_form = find_form(opened.text, "card-form")
            if card_form is None:
                raise AssertionError(f"no card form on the hosted page: {opened.text[:300]}")
            data = {"card_number": card_number, "expires": "12/30", "cvv": "123", "holder": "TEST CUSTOMER",
                    "action": "cancel" if cancel else "pay"}
            done = await client.post(card_form.action, data=data)
            back = find_form(done.text, "return-form")
            if back is None:
                raise AssertionError(f"no way back to the merchant on the page: {done.text[:300]}")
            return back


def _multi(fields: Iterable[tuple[str, str]] | Mapping[str, str]) -> list[tuple[str, str]]:
    return list(fields.items()) if isinstance(fields, Mapping) else list(fields)
