"""Investing in the collecting stage of a project, and refunding a stage that failed.

One investment is one transaction, in a fixed lock order so concurrent investments never
deadlock: the investor's yearly counter (259-FZ), the project's yearly counter, the stage
row (its cap, in core.projects), then the ledger accounts (wallet or certificate, escrow).
The counters' guarded upserts and the stage's guarded update are what keep every limit
under any number of concurrent attempts; the ledger refuses a transfer the wallet cannot
cover, and then the whole investment rolls back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg

from core.projects import ProjectService
from core.projects.errors import Conflict, Invalid, NotFound
from core.projects.models import Project, Stage, StageStatus
from core.web.i18n import gettext as _
from core.web.i18n import money
from plugins.crowdinvesting import limits
from plugins.crowdinvesting.accounts import CrowdAccounts, tid
from plugins.crowdinvesting.batching import InvestmentBatcher
from plugins.crowdinvesting.models import Investment, InvestorStatus, Terms
from plugins.crowdinvesting.notify import Notices

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.crowdinvesting.settings import CrowdinvestingSettings

REFUND_BATCH = 500


@dataclass(frozen=True)
class Funding:
    """Where an investment's money comes from: a wallet, or a gift certificate's account."""

    account_id: int
    source: str = "wallet"
    certificate_id: UUID | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class InvestmentService:
    def __init__(self, platform: Platform, settings: CrowdinvestingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = CrowdAccounts(platform, settings)
        self.notices = Notices(platform)
        self.batcher = InvestmentBatcher(self)

    @property
    def db(self):
        return self.platform.db

    @property
    def projects(self) -> ProjectService:
        return self.platform.service(ProjectService)

    @property
    def timezone(self) -> str:
        return self.platform.core.platform.timezone

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or utcnow()).astimezone(ZoneInfo(self.timezone)).date()

    def money(self, minor: int) -> str:
        """An amount in the plugin's currency, for messages in the reader's language."""
        return money(minor, self.settings.currency)

    # -- terms and investors ----------------------------------------------------------------

    async def terms(self, project_id: UUID) -> Terms:
        row = await self.db.fetchrow("SELECT * FROM crowd_terms WHERE project_id = $1", project_id)
        if row is None:
            return Terms(project_id, self.settings.minor(self.settings.min_investment))
        return Terms.from_record(row)

    async def set_terms(self, project_id: UUID, *, min_investment_minor: int, max_per_investor_minor: int | None,
                        expected_yield_bp: int, term_months: int, payout_period: str) -> Terms:
        if min_investment_minor <= 0:
            raise Invalid("the minimum must be positive", field="min_investment")
        if max_per_investor_minor is not None and max_per_investor_minor < min_investment_minor:
            raise Invalid("the cap per investor must be at least the minimum", field="max_per_investor")
        if not 0 <= expected_yield_bp <= 100_000:
            raise Invalid("between 0 and 1000 percent a year", field="expected_yield")
        if not 1 <= term_months <= 600:
            raise Invalid("between 1 and 600 months", field="term_months")
        if payout_period not in ("month", "quarter", "year", "end"):
            raise Invalid("month, quarter, year or end", field="payout_period")
        await self.projects.project(project_id)
        row = await self.db.fetchrow(
            """INSERT INTO crowd_terms (project_id, min_investment_minor, max_per_investor_minor, expected_yield_bp,
                                       term_months, payout_period)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (project_id) DO UPDATE SET min_investment_minor = $2, max_per_investor_minor = $3,
                   expected_yield_bp = $4, term_months = $5, payout_period = $6, updated_at = now()
               RETURNING *""",
            project_id, min_investment_minor, max_per_investor_minor, expected_yield_bp, term_months, payout_period)
        return Terms.from_record(row)

    async def investor(self, user_id: UUID) -> InvestorStatus:
        row = await self.db.fetchrow("SELECT * FROM crowd_investors WHERE user_id = $1", user_id)
        return InvestorStatus(user_id, row["qualified"], row["qualified_until"], row["wallet_account_id"]) if row \
            else InvestorStatus(user_id)

    async def _register(self, conn: Any, user_id: UUID) -> InvestorStatus:
        """The investor's row, with their wallet's ledger account (opened if this is their first step)."""
        status = await self.investor(user_id)
        if status.wallet_account_id is None:
            wallet = await self.accounts.wallet(user_id)
            await conn.execute(
                "INSERT INTO crowd_investors (user_id, wallet_account_id) VALUES ($1, $2) "
                "ON CONFLICT (user_id) DO UPDATE SET wallet_account_id = $2", user_id, wallet)
            status = InvestorStatus(user_id, status.qualified, status.qualified_until, wallet)
        return status

    async def set_qualified(self, user_id: UUID, *, qualified: bool, until: dt.date | None = None,
                            actor: UUID | None = None) -> InvestorStatus:
        """Record (or withdraw) qualified-investor status, which lifts the non-qualified limits."""
        async with self.db.transaction() as conn:
            await self._register(conn, user_id)
            await conn.execute(
                "UPDATE crowd_investors SET qualified = $2, qualified_until = $3, qualified_by = $4, "
                "qualified_at = now() WHERE user_id = $1", user_id, qualified, until if qualified else None, actor)
            await self.notices.audit("investor_qualification", actor=actor, target=f"user:{user_id}",
                                     qualified=qualified, until=until)
        return await self.investor(user_id)

    async def declare_elsewhere(self, user_id: UUID, *, year: int, amount_minor: int) -> limits.Allowance:
        """The investor declares what they invested this year through other platforms (259-FZ art. 7)."""
        if amount_minor < 0:
            raise Invalid("the amount must not be negative", field="amount")
        if year != self.today().year:
            raise Invalid(f"declare for the current year, {self.today().year}", field="year")
        await self.db.execute(
            """INSERT INTO crowd_investor_years AS y (user_id, year, declared_elsewhere_minor) VALUES ($1, $2, $3)
               ON CONFLICT (user_id, year) DO UPDATE SET declared_elsewhere_minor = $3""", user_id, year, amount_minor)
        return await self.allowance(user_id)

    async def allowance(self, user_id: UUID, now: dt.datetime | None = None) -> limits.Allowance:
        now = now or utcnow()
        year = limits.calendar_year(now, self.timezone)
        status = await self.investor(user_id)
        qualified = status.is_qualified(self.today(now))
        caps = limits.binding_caps(self.settings, qualified=qualified)
        row = await self.db.fetchrow("SELECT invested_minor, declared_elsewhere_minor FROM crowd_investor_years "
                                     "WHERE user_id = $1 AND year = $2", user_id, year)
        cap = min((c for c in (caps.investor_year, caps.investor_year_with_declared) if c is not None), default=None)
        return limits.Allowance(year, row["invested_minor"] if row else 0,
                                row["declared_elsewhere_minor"] if row else 0, cap, qualified)

    # -- investing ----------------------------------------------------------------------------

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.batcher.stop()

    async def invest(self, user_id: UUID, project_key: UUID | str, amount_minor: int, *,
                     idempotency_key: str | None = None, now: dt.datetime | None = None) -> Investment:
        """Invest ``amount_minor`` from the customer's balance in the project's collecting stage.

        With ``idempotency_key``, repeating the request returns the first investment and moves
        nothing again. Outside a transaction the investment joins the next batch of the group
        commit (:mod:`plugins.crowdinvesting.batching`); inside one, or at a given ``now``, it is
        made in place.
        """
        if idempotency_key is not None:
            idempotency_key = idempotency_key.strip()[:100] or None
        if now is None and self.db.current is None:
            return await self.batcher.submit(user_id, project_key, amount_minor, idempotency_key)
        project = await self._crowd_project(project_key)
        found = await self._by_key(user_id, idempotency_key)
        if found is not None:
            return self._same_request(found, project.id, amount_minor)
        return await self.invest_now(user_id, project, amount_minor, idempotency_key=idempotency_key, now=now)

    async def invest_now(self, user_id: UUID, project: Project, amount_minor: int, *,
                         idempotency_key: str | None = None, now: dt.datetime | None = None) -> Investment:
        """One investment in its own transaction (or the caller's)."""
        try:
            async with self.db.transaction() as conn:
                status = await self._register(conn, user_id)
                investment = await self.place(conn, user_id=user_id, project=project, amount_minor=amount_minor,
                                              funding=Funding(status.wallet_account_id), status=status,
                                              idempotency_key=idempotency_key, now=now)
        except asyncpg.UniqueViolationError:
            # The same request raced itself; the first one won and is the answer.
            found = await self._by_key(user_id, idempotency_key) if idempotency_key else None
            if found is None:
                raise
            return self._same_request(found, project.id, amount_minor)
        return investment

    async def _by_key(self, user_id: UUID, key: str | None) -> Investment | None:
        if key is None:
            return None
        row = await self.db.fetchrow("SELECT * FROM crowd_investments WHERE user_id = $1 AND idempotency_key = $2",
                                     user_id, key)
        return Investment.from_record(row) if row else None

    @staticmethod
    def _same_request(found: Investment, project_id: UUID, amount_minor: int) -> Investment:
        if found.amount_minor != amount_minor or found.project_id != project_id:
            raise Conflict("this idempotency key was already used for a different investment")
        return found

    def short_of_money(self, available: int, amount_minor: int) -> Conflict:
        return Conflict(_("your balance is %(available)s, not enough to invest %(amount)s; top it up first",
                          available=self.money(available), amount=self.money(amount_minor)))

    async def _crowd_project(self, key: UUID | str) -> Project:
        return self.check_project(await self.projects.project(key), key)

    def check_project(self, project: Project, key: UUID | str) -> Project:
        # Another product's project is not ours to take money for: its failed stages would never be refunded here.
        if project.visibility != "published" or project.kind != "crowdinvesting":
            raise NotFound(_("no project %(key)s is open to investors", key=key))
        if project.currency != self.settings.currency:
            raise Conflict(f"the project is in {project.currency}; crowdinvesting here runs in "
                           f"{self.settings.currency}")
        return project

    async def place(self, conn: Any, *, user_id: UUID, project: Project, amount_minor: int, funding: Funding,
                    status: InvestorStatus, idempotency_key: str | None = None,
                    now: dt.datetime | None = None) -> Investment:
        """Check every limit and move the money, inside the caller's transaction (also used by certificates)."""
        now = now or utcnow()
        if not isinstance(amount_minor, int) or amount_minor <= 0:
            raise Invalid(_("the amount must be positive"), field="amount")
        stage = await self.projects.collecting_stage(project.id)
        if stage is None:
            raise Conflict(_("%(project)s: no stage is collecting money now", project=project.title))
        terms = await self.terms(project.id)
        if amount_minor < terms.min_investment_minor:
            raise Invalid(_("the minimum investment in this project is %(amount)s",
                            amount=self.money(terms.min_investment_minor)), field="amount")
        year = limits.calendar_year(now, self.timezone)
        caps = limits.binding_caps(self.settings, qualified=status.is_qualified(self.today(now)),
                                   stage_cap_minor=terms.max_per_investor_minor)
        currency = self.settings.currency
        await limits.count_investor_year(conn, user_id, year, amount_minor, caps, currency)
        await limits.check_investor_stage(conn, user_id, stage.id, amount_minor, caps, currency)
        await limits.count_project_year(conn, project.id, year, amount_minor, caps, currency)
        contribution = await self.projects.record_contribution(stage.id, amount_minor, now=now)
        investment_id = uuid.uuid4()
        transfer = tid("invest", investment_id)
        row = await conn.fetchrow(
            """INSERT INTO crowd_investments (id, user_id, project_id, stage_id, amount_minor, currency, source,
                                              certificate_id, year, idempotency_key, transfer_id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
            investment_id, user_id, project.id, stage.id, amount_minor, currency, funding.source,
            funding.certificate_id, year, idempotency_key, transfer, now)
        escrow = await self.projects.escrow_account(contribution.stage)
        result = await self.accounts.move(transfer, funding.account_id, escrow.id, amount_minor, "crowdinvesting.invest",
                                          investment=investment_id, stage=stage.id)
        if not result.accepted:
            if result.code == "exceeds_credits":
                raise self.short_of_money(await self.accounts.balance(funding.account_id), amount_minor)
            raise Conflict(f"the ledger refused the investment: {result.code} {result.detail}".strip())
        investment = Investment.from_record(row)
        from plugins.crowdinvesting.referrals import ReferralService

        await self.platform.service(ReferralService).on_investment(conn, investment)
        await self.notices.confirm([investment.id])
        return investment

    # -- refunds --------------------------------------------------------------------------------

    async def refund_stage(self, stage_id: UUID) -> int:
        """Give every investor of a failed stage exactly their money back; returns how many were refunded.

        Safe to run again and from several workers: each investment is refunded by one
        transaction that finds it still active, with a transfer id derived from it.
        """
        stage = await self.projects.stage(stage_id)
        if stage.status == StageStatus.REFUNDED:
            return 0
        if stage.status != StageStatus.FAILED:
            raise Conflict(f"stage {stage.position} is {stage.status}; only a failed stage is refunded")
        refunded = 0
        while True:
            done = await self._refund_batch(stage)
            refunded += done
            if done == 0:
                break
        await self.projects.mark_refunded(stage.id)
        return refunded

    async def _refund_batch(self, stage: Stage) -> int:
        rows = await self.db.fetch(
            "SELECT id, user_id, year FROM crowd_investments WHERE stage_id = $1 AND status = 'active' "
            "ORDER BY user_id, id LIMIT $2", stage.id, REFUND_BATCH)
        if not rows:
            return 0
        async with self.db.transaction() as conn:
            # Same lock order as investing: investors' yearly rows, the project's, the stage, the ledger.
            await conn.execute(
                "SELECT 1 FROM crowd_investor_years y JOIN unnest($1::uuid[], $2::int[]) AS k(user_id, year) "
                "USING (user_id, year) ORDER BY y.user_id, y.year FOR UPDATE OF y",
                [r["user_id"] for r in rows], [r["year"] for r in rows])
            await conn.execute("SELECT 1 FROM crowd_project_years WHERE project_id = $1 ORDER BY year FOR UPDATE",
                               stage.project_id)
            taken = await self._take(conn, rows, stage)
            if not taken:
                return 0
            await conn.execute(
                """UPDATE crowd_investor_years y SET invested_minor = y.invested_minor - d.amount
                   FROM (SELECT user_id, year, sum(amount) AS amount
                         FROM unnest($1::uuid[], $2::int[], $3::bigint[]) AS t(user_id, year, amount)
                         GROUP BY user_id, year) d
                   WHERE y.user_id = d.user_id AND y.year = d.year""",
                [t["user_id"] for t in taken], [t["year"] for t in taken], [t["amount_minor"] for t in taken])
            await conn.execute(
                """UPDATE crowd_project_years y SET raised_minor = y.raised_minor - d.amount
                   FROM (SELECT year, sum(amount) AS amount FROM unnest($2::int[], $3::bigint[]) AS t(year, amount)
                         GROUP BY year) d
                   WHERE y.project_id = $1 AND y.year = d.year""",
                stage.project_id, [t["year"] for t in taken], [t["amount_minor"] for t in taken])
            await self.projects.record_refund(stage.id, sum(t["amount_minor"] for t in taken))
            escrow = await self.projects.escrow_account(stage)
            wallets = {r["user_id"]: r["wallet_account_id"] for r in await conn.fetch(
                "SELECT user_id, wallet_account_id FROM crowd_investors WHERE user_id = ANY($1::uuid[])",
                list({t["user_id"] for t in taken}))}
            from core.ledger import NewTransfer

            requests = [NewTransfer(id=t["refund_transfer_id"], debit_account_id=escrow.id,
                                    credit_account_id=wallets[t["user_id"]], amount=t["amount_minor"],
                                    code="crowdinvesting.refund", currency=self.settings.currency,
                                    metadata={"investment": str(t["id"]), "stage": str(stage.id)})
                        for t in taken]
            results = await self.accounts.ledger.submit(requests)
            refused = [r for r in results if not r.accepted]
            if refused:
                raise Conflict(f"the ledger refused {len(refused)} refunds of stage {stage.position}: "
                               f"{refused[0].code} {refused[0].detail}")
            await self.notices.later(sorted({t["user_id"] for t in taken}), "refunded", {"stage": stage.title})
        return len(taken)

    async def _take(self, conn: Any, rows: list[Any], stage: Stage) -> list[Any]:
        """Mark the batch refunded (only rows still active: a concurrent run takes each row once)."""
        ids = [r["id"] for r in rows]
        transfers = [tid("refund", r["id"]) for r in rows]
        return await conn.fetch(
            """UPDATE crowd_investments i SET status = 'refunded', refunded_at = now(), refund_transfer_id = t.transfer
               FROM unnest($1::uuid[], $2::uuid[]) AS t(id, transfer)
               WHERE i.id = t.id AND i.stage_id = $3 AND i.status = 'active'
               RETURNING i.id, i.user_id, i.project_id, i.year, i.amount_minor, i.refund_transfer_id""",
            ids, transfers, stage.id)

    async def refund_failed_stages(self) -> int:
        """Refund every failed stage that still holds investors' money (the janitor task)."""
        rows = await self.db.fetch(
            "SELECT s.id FROM projects_stages s JOIN projects_projects p ON p.id = s.project_id "
            "WHERE s.status = 'failed' AND p.kind = 'crowdinvesting' ORDER BY s.status_changed_at")
        total = 0
        for row in rows:
            total += await self.refund_stage(row["id"])
        return total

    # -- reading ----------------------------------------------------------------------------------

    async def investments(self, *, user_id: UUID | None = None, stage_id: UUID | None = None,
                          project_id: UUID | None = None, limit: int = 1000) -> list[Investment]:
        rows = await self.db.fetch(
            """SELECT * FROM crowd_investments
               WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::uuid IS NULL OR stage_id = $2)
                 AND ($3::uuid IS NULL OR project_id = $3)
               ORDER BY created_at DESC, id LIMIT $4""", user_id, stage_id, project_id, limit)
        return [Investment.from_record(r) for r in rows]
