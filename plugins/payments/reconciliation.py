"""The daily reconciliation: the provider's view, our records and the ledger, side by side.

For one business date and each gateway, every payment created or finished that day is
compared three ways: what the provider says (its list of transactions when it has one,
a status query per payment otherwise), what our record says, and what the ledger moved.
Every difference becomes an item of the day's report; nothing is corrected
automatically (the janitor settles unknown outcomes; a person settles differences).
Running it again for the same date does nothing new.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from core.contracts.payments import GatewayResult, GatewayStatus, Operation, PaymentGateway
from plugins.payments.records import PaymentRecord, PaymentStore
from plugins.payments.states import Kind, Status

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger(__name__)

#: Kinds of difference, as stored in ``payments_reconciliation_items.kind``.
PROVIDER_PAID_WE_DID_NOT = "provider_paid_we_did_not"
WE_PAID_PROVIDER_DID_NOT = "we_paid_provider_did_not"
AMOUNT_DIFFERS = "amount_differs"
LEDGER_MISSING = "ledger_missing"
LEDGER_WITHOUT_SUCCESS = "ledger_without_success"
UNKNOWN_TO_US = "unknown_to_us"
PROVIDER_UNREACHABLE = "provider_unreachable"


@dataclass(frozen=True)
class Difference:
    kind: str
    payment_id: Any
    ours: dict[str, Any]
    provider: dict[str, Any]
    ledger: dict[str, Any]
    detail: str


def day_bounds(business_date: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(business_date, dt.time.min, tzinfo=ZoneInfo(timezone))
    return start, start + dt.timedelta(days=1)


def _ours(p: PaymentRecord) -> dict[str, Any]:
    return {"status": p.status.value, "amount": str(p.amount), "refunded": str(p.refunded), "kind": p.kind.value}


def _theirs(r: GatewayResult | None) -> dict[str, Any]:
    if r is None:
        return {}
    return {"status": r.status.value, "provider_status": r.provider_status,
            "amount": str(r.amount) if r.amount else None, "error": r.error_message}


class Reconciler:
    def __init__(self, platform: Platform) -> None:
        from plugins.payments.service import Payments

        self.platform = platform
        self.payments = platform.service(Payments)
        self.store: PaymentStore = self.payments.store
        assert platform.db is not None
        self.db = platform.db

    async def run(self, business_date: dt.date) -> list[int]:
        """Reconcile every gateway for ``business_date``; return the report ids."""
        ids = []
        for gateway in self.payments.gateways():
            report_id = await self.run_gateway(gateway, business_date)
            if report_id is not None:
                ids.append(report_id)
        return ids

    async def run_gateway(self, gateway: PaymentGateway, business_date: dt.date) -> int | None:
        existing = await self.db.fetchrow(
            "SELECT id, finished_at FROM payments_reconciliations WHERE business_date = $1 AND gateway = $2",
            business_date, gateway.name)
        if existing is not None and existing["finished_at"] is not None:
            return existing["id"]
        since, until = day_bounds(business_date, self.platform.core.platform.timezone)
        differences, checked = await self.compare(gateway, since, until)
        async with self.db.transaction():
            report_id = await self.db.fetchval(
                """INSERT INTO payments_reconciliations (business_date, gateway) VALUES ($1, $2)
                   ON CONFLICT (business_date, gateway) DO UPDATE SET started_at = now() RETURNING id""",
                business_date, gateway.name)
            await self.db.execute("DELETE FROM payments_reconciliation_items WHERE reconciliation_id = $1", report_id)
            for d in differences:
                await self.db.execute(
                    """INSERT INTO payments_reconciliation_items
                           (reconciliation_id, payment_id, kind, ours, provider, ledger, detail)
                       VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                    report_id, d.payment_id, d.kind, d.ours, d.provider, d.ledger, d.detail)
            await self.db.execute(
                "UPDATE payments_reconciliations SET finished_at = now(), checked = $2, differences = $3 WHERE id = $1",
                report_id, checked, len(differences))
        if differences:
            log.warning("reconciliation of %s for %s: %d difference(s)", gateway.name, business_date, len(differences))
        return report_id

    async def compare(self, gateway: PaymentGateway, since: dt.datetime,
                      until: dt.datetime) -> tuple[list[Difference], int]:
        ours = await self.store.touched_between(gateway.name, since, until)
        listed: dict[str, GatewayResult] = {}
        if gateway.supports_listing:
            listed = {r.payment_id: r for r in await gateway.transactions(since, until)}
        differences: list[Difference] = []
        for payment in ours:
            if payment.status in (Status.NEW, Status.AWAITING_CONFIRMATION, Status.AWAITING_APPROVAL,
                                  Status.APPROVED, Status.REJECTED):
                continue  # never reached the provider
            theirs = listed.get(str(payment.id))
            if theirs is None:
                # Not in the provider's list (or it keeps none): ask about it. A list is by the day an
                # order was created, so one created yesterday and paid today is missing from it, and a
                # list that failed to come is empty: neither means the provider never saw the payment.
                theirs = await self.payments._call(gateway.status(payment.ref), Operation.STATUS, payment.id,
                                                   gateway.name)
            differences.extend(await self._differences(payment, theirs))
        known = {str(p.id) for p in ours}
        for payment_id, theirs in listed.items():
            if payment_id in known:
                continue
            parsed = _uuid(payment_id)
            if parsed is not None and await self.store.get(parsed) is not None:
                continue  # ours, from another day
            differences.append(Difference(UNKNOWN_TO_US, None, {}, _theirs(theirs) | {"order": payment_id}, {},
                                          f"the provider lists {payment_id!r}, which is not one of our payments"))
        return differences, len(ours)

    async def _differences(self, payment: PaymentRecord, theirs: GatewayResult | None) -> list[Difference]:
        found: list[Difference] = []
        ledger = await self._ledger_view(payment)

        def add(kind: str, detail: str) -> None:
            found.append(Difference(kind, payment.id, _ours(payment), _theirs(theirs), ledger, detail))

        succeeded = payment.status in (Status.SUCCEEDED, Status.REFUNDED)
        if theirs is None:
            if succeeded and payment.kind is not Kind.WITHDRAWAL:
                add(WE_PAID_PROVIDER_DID_NOT, "the provider does not list this payment")
        elif theirs.status is GatewayStatus.UNDEFINED:
            add(PROVIDER_UNREACHABLE, f"could not get the provider's view: {theirs.error_message}")
        elif theirs.status is GatewayStatus.PROCESSED and not succeeded:
            add(PROVIDER_PAID_WE_DID_NOT, f"the provider says {theirs.provider_status}, we say {payment.status.value}")
        elif succeeded and theirs.status is not GatewayStatus.PROCESSED:
            add(WE_PAID_PROVIDER_DID_NOT, f"we say {payment.status.value}, the provider says {theirs.provider_status}")
        if theirs is not None and theirs.amount is not None and theirs.amount != payment.amount:
            add(AMOUNT_DIFFERS, f"the provider has {theirs.amount}, we have {payment.amount}")
        moved = ledger.get("moved")
        if moved is not None:
            if succeeded and moved != payment.amount.minor:
                add(LEDGER_MISSING, f"the ledger moved {moved} minor units, the payment is {payment.amount.minor}")
            elif not succeeded and moved:
                add(LEDGER_WITHOUT_SUCCESS, f"the ledger moved {moved} minor units for a {payment.status.value} payment")
        return found

    async def _ledger_view(self, payment: PaymentRecord) -> dict[str, Any]:
        try:
            if payment.kind is Kind.WITHDRAWAL:
                return {"moved": await self.payments.postings.paid_out(payment)}
            return {"moved": await self.payments.postings.credited(payment)}
        except LookupError:  # no ledger in this deployment
            return {}

    async def reports(self, limit: int = 60) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            """SELECT id, business_date, gateway, started_at, finished_at, checked, differences
               FROM payments_reconciliations ORDER BY business_date DESC, gateway LIMIT $1""", limit)
        return [dict(r) for r in rows]

    async def report(self, report_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        row = await self.db.fetchrow(
            """SELECT id, business_date, gateway, started_at, finished_at, checked, differences
               FROM payments_reconciliations WHERE id = $1""", report_id)
        if row is None:
            return None
        items = await self.db.fetch(
            """SELECT payment_id, kind, ours, provider, ledger, detail FROM payments_reconciliation_items
               WHERE reconciliation_id = $1 ORDER BY id""", report_id)
        return dict(row), [dict(i) for i in items]


def _uuid(value: str) -> Any:
    from plugins.payments.service import parse_uuid

    return parse_uuid(value)
