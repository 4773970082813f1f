"""A sandbox bank: the customer's online banking and the platform's statement feed.

* ``GET /pay?reference=&amount=&currency=&return_url=``: the customer's bank, with a
  transfer form filled in from the invoice; ``POST /pay`` sends it, which books an
  incoming line on the platform's statement;
* ``GET /statement?from=YYYY-MM-DD``: the platform's statement as CSV (the layout
  :mod:`.statement` reads);
* failure modes: ``declined`` (the bank refuses the transfer), ``delayed_callback``
  (lines are booked only after ``callback_delay_s``), ``timeout`` (the statement feed
  stalls). A bank sends no callbacks, so the others do nothing here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, get, post

from core.contracts.payments import Redirect
from core.money import Money, MoneyError
from plugins.payments.bank_transfer.statement import StatementLine, to_csv
from plugins.payments.emulation import EmulatedOrder, Mode, ProviderEmulator, form_pairs


class BankEmulator(ProviderEmulator):
    provider = "bank_transfer"
    title = "Sandbox Bank"
    color = "#5a3e8e"

    def __init__(self, *, currency: str = "RUB", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.currency = currency
        #: Statement lines and when each becomes visible.
        self.lines: list[tuple[dt.datetime, StatementLine]] = []

    def book(self, *, amount: Money, purpose: str, counterparty: str = "TEST CUSTOMER") -> StatementLine:
        """Book a transfer on the platform's account (positive: incoming)."""
        from plugins.payments.bank_transfer.reference import find_references

        visible_at = dt.datetime.now(dt.UTC)
        if self.has(Mode.DELAYED_CALLBACK):
            visible_at += dt.timedelta(seconds=self.callback_delay_s)
        line = StatementLine(line_id=f"SB{secrets.token_hex(6).upper()}", booked_on=dt.date.today(), amount=amount,
                             counterparty=counterparty, purpose=purpose, references=tuple(find_references(purpose)))
        self.lines.append((visible_at, line))
        self.add_order(EmulatedOrder(order_id=line.line_id, amount=amount.minor, currency=amount.currency,
                                     description=purpose, status="approved",
                                     processed_at=dt.datetime.now(dt.UTC)))
        return line

    def visible_lines(self, since: dt.date) -> list[StatementLine]:
        moment = dt.datetime.now(dt.UTC)
        return [line for at, line in self.lines if at <= moment and line.booked_on >= since]

    def reset(self) -> None:
        super().reset()
        self.lines.clear()

    def routes(self) -> list[Any]:
        emulator = self

        @get("/pay")
        async def bank_page(request: Request[Any, Any, Any]) -> Response[str]:
            query = request.query_params
            return emulator.page("bank.html", reference=query.get("reference", ""), amount=query.get("amount", ""),
                                 currency=query.get("currency", emulator.currency),
                                 return_url=query.get("return_url", ""), error="")

        @post("/pay", status_code=200)
        async def bank_transfer(request: Request[Any, Any, Any]) -> Response[str]:
            fields = dict(form_pairs(await request.body()))
            currency = fields.get("currency") or emulator.currency
            try:
                amount = Money.of(Decimal(fields.get("amount", "").replace(",", ".").strip()), currency)
                if amount.minor <= 0:
                    raise ValueError
            except (InvalidOperation, ValueError, MoneyError):
                return emulator.page("bank.html", status_code=422, reference=fields.get("purpose", ""),
                                     amount=fields.get("amount", ""), currency=currency,
                                     return_url=fields.get("return_url", ""), error="Enter the amount to send.")
            back = Redirect(fields["return_url"], "GET") if fields.get("return_url") else None
            if emulator.has(Mode.DECLINED):
                return emulator.page("bank_done.html", sent=False, target=back, amount=amount)
            emulator.book(amount=amount, purpose=fields.get("purpose", ""),
                          counterparty=fields.get("payer", "TEST CUSTOMER"))
            return emulator.page("bank_done.html", sent=True, target=back, amount=amount)

        @get("/statement", media_type="text/csv")
        async def statement(request: Request[Any, Any, Any]) -> Response[str]:
            try:
                since = dt.date.fromisoformat(request.query_params.get("from", "2000-01-01"))
            except ValueError:
                return Response("from: a date as YYYY-MM-DD\n", status_code=400, media_type="text/plain")
            if emulator.has(Mode.TIMEOUT):
                await asyncio.sleep(emulator.stall_s)
            return Response(to_csv(emulator.visible_lines(since)), media_type="text/csv")

        return [bank_page, bank_transfer, statement]


def build_emulator(settings: Any, *, public_url: str, **kwargs: Any) -> BankEmulator:
    kwargs.pop("default_callback_url", None)  # a bank calls nobody back
    return BankEmulator(currency=settings.currency, public_url=public_url, **kwargs)
