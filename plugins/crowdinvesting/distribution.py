"""Income distribution: an admin posts income for a project (or one stage) and a period.

The income is paid to the investors pro rata to their contributions to the project's raised
stages (funded, in progress, completed), exactly: every investor gets the floor of their
exact share in kopecks, and the kopecks left over go one each to the largest remainders
(``core.money.allocate``). Ties are broken by who invested first, then by user id, so the
split is the same whatever order the rows come in. The payouts add up to the income.

A distribution is identified by (project, stage, period): posting it again returns the one
already made and creates nothing. Its money moves in one transaction: the income comes in
to the project's income account, then one transfer per investor goes out to their wallet,
each with an id derived from the distribution and the investor.

The payouts go to the ledger in batches of its largest size; while the database applies one
batch, a thread builds the next (ids, requests, payout rows), so the Python work of a large
distribution overlaps the database's instead of adding to it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from core.ledger import NewTransfer
from core.ledger.ids import NAMESPACE
from core.money import allocate
from core.projects import ProjectService
from core.projects.errors import Conflict, Invalid, NotFound
from core.projects.models import RAISED
from plugins.crowdinvesting.accounts import CrowdAccounts, tid
from plugins.crowdinvesting.models import Distribution
from plugins.crowdinvesting.notify import Notices

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.crowdinvesting.settings import CrowdinvestingSettings

NO_STAGE = "project"


class Holding(NamedTuple):
    """One investor's weight in a distribution: what they put into the raised stages.

    A named tuple: a distribution builds one per investor (100,000 frozen dataclasses took a third of a second).
    """

    user_id: UUID
    contribution_minor: int
    wallet_account_id: int


def split(income_minor: int, holdings: Sequence[Holding]) -> list[int]:
    """Each holding's payout, in the holdings' order; they sum to ``income_minor`` exactly."""
    return allocate(income_minor, [h.contribution_minor for h in holdings])


def payout_ids(distribution_id: UUID, holdings: Sequence[Holding], payouts: Sequence[int]) -> list[UUID | None]:
    """Each payout's transfer id, ``tid("income", distribution_id, investor)``; None for a payout of nothing.

    The same ids as ``tid`` gives, derived in a third of the time: the hash of the parts every id shares
    is computed once and copied for each investor (a distribution derives 100,000 of them). It repeats
    ``core.ledger.ids.transfer_id``'s derivation (namespace, unit separator); a property test holds the two equal.
    """
    shared = hashlib.sha1(NAMESPACE.bytes + "\x1f".join(("crowdinvesting", "income", str(distribution_id), "")).encode())
    ids: list[UUID | None] = []
    for h, p in zip(holdings, payouts, strict=True):
        if p:
            digest = shared.copy()
            digest.update(str(h.user_id).encode())
            ids.append(UUID(bytes=digest.digest()[:16], version=5))
        else:
            ids.append(None)
    return ids


def share(contribution_minor: int, total_minor: int) -> Fraction:
    """An investor's exact share: their contribution over the total (rounded only when shown)."""
    return Fraction(contribution_minor, total_minor) if total_minor else Fraction(0)


class IncomeService:
    def __init__(self, platform: Platform, settings: CrowdinvestingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = CrowdAccounts(platform, settings)
        self.notices = Notices(platform)

    @property
    def db(self):
        return self.platform.db

    async def holdings(self, project_id: UUID, stage_id: UUID | None = None) -> list[Holding]:
        """Investors of the raised stages with their contributions, in tie-break order."""
        # Sum per investor first, then find each one's wallet once (joining first looked the wallet up per row).
        rows = await self.db.fetch(
            """WITH held AS (
                   SELECT i.user_id, sum(i.amount_minor)::bigint AS contribution, min(i.created_at) AS first_at
                   FROM crowd_investments i JOIN projects_stages s ON s.id = i.stage_id
                   WHERE i.project_id = $1 AND i.status = 'active' AND s.status = ANY($2::text[])
                     AND ($3::uuid IS NULL OR i.stage_id = $3)
                   GROUP BY i.user_id)
               SELECT h.user_id, h.contribution, v.wallet_account_id
               FROM held h JOIN crowd_investors v ON v.user_id = h.user_id
               ORDER BY h.first_at, h.user_id""",
            project_id, [str(s) for s in RAISED], stage_id)
        return list(map(Holding._make, rows))

    def distribution_id(self, project_id: UUID, stage_id: UUID | None, period: str) -> UUID:
        return tid("distribution", project_id, stage_id or NO_STAGE, period)

    async def existing(self, project_id: UUID, stage_id: UUID | None, period: str, amount_minor: int
                       ) -> Distribution | None:
        """The distribution already made for this period, or None; refuses the same period with another amount."""
        return await self._existing(self.distribution_id(project_id, stage_id, period.strip()), amount_minor)

    async def distribute(self, project_id: UUID, *, amount_minor: int, period: str, stage_id: UUID | None = None,
                         note: str = "", actor: UUID | None = None, approved_by: UUID | None = None
                         ) -> Distribution:
        """Pay ``amount_minor`` of income to the project's investors; a second call for the same period creates nothing."""
        period = period.strip()
        if not period or len(period) > 40:
            raise Invalid("name the period, e.g. 2026-Q3 (up to 40 characters)", field="period")
        if not isinstance(amount_minor, int) or amount_minor <= 0:
            raise Invalid("the income must be positive", field="amount")
        projects = self.platform.service(ProjectService)
        project = await projects.project(project_id)
        if stage_id is not None and (await projects.stage(stage_id)).project_id != project.id:
            raise Invalid("not a stage of this project", field="stage_id")
        distribution_id = self.distribution_id(project.id, stage_id, period)
        existing = await self._existing(distribution_id, amount_minor)
        if existing is not None:
            return existing
        async with self.db.transaction() as conn:
            # One distribution of a project at a time; the second waits, then finds the first.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('crowdinvesting.distribution'), "
                               "hashtext($1))", str(project.id))
            existing = await self._existing(distribution_id, amount_minor)
            if existing is not None:
                return existing
            holdings = await self.holdings(project.id, stage_id)
            if not holdings:
                raise Conflict("no investor holds a share of a funded stage of this project yet")
            payouts = split(amount_minor, holdings)
            base = sum(h.contribution_minor for h in holdings)
            row = await conn.fetchrow(
                """INSERT INTO crowd_distributions (id, project_id, stage_id, period, amount_minor, currency, base_minor,
                                                   investors, note, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
                distribution_id, project.id, stage_id, period, amount_minor, project.currency, base, len(holdings),
                note.strip(), actor)
            await self._pay(conn, project.id, distribution_id, amount_minor, holdings, payouts)
            await self.notices.audit("income_posted", actor=actor, target=f"project:{project.id}", period=period,
                                     amount_minor=amount_minor, investors=len(holdings), approved_by=approved_by,
                                     distribution=distribution_id)
            await self.notices.investors_of_project(project.id, "income_paid", {
                "project": project.title, "period": period, "distribution_id": str(distribution_id)})
        return Distribution.from_record(row)

    async def _existing(self, distribution_id: UUID, amount_minor: int) -> Distribution | None:
        row = await self.db.fetchrow("SELECT * FROM crowd_distributions WHERE id = $1", distribution_id)
        if row is None:
            return None
        if row["amount_minor"] != amount_minor:
            raise Conflict(f"income for period {row['period']!r} was already posted with a different amount "
                           f"({row['amount_minor']}); use another period name")
        return Distribution.from_record(row, created=False)

    async def _pay(self, conn: Any, project_id: UUID, distribution_id: UUID, amount_minor: int,
                   holdings: Sequence[Holding], payouts: Sequence[int]) -> None:
        """The income in, then the payout rows and one transfer per investor, batch by batch (see the module)."""
        source = await self.accounts.income_source()
        income = await self.accounts.project_income(project_id)
        currency = self.settings.currency
        ledger = self.accounts.ledger
        await self._submit([NewTransfer(
            id=tid("income", distribution_id, "received"), debit_account_id=source, credit_account_id=income,
            amount=amount_minor, code="crowdinvesting.income_received", currency=currency,
            metadata={"distribution": str(distribution_id)})])

        size = ledger.settings.batch_max

        def batch(start: int) -> tuple[list[NewTransfer], list[tuple[Any, ...]]]:
            held, paid = holdings[start:start + size], payouts[start:start + size]
            ids = payout_ids(distribution_id, held, paid)
            transfers = [NewTransfer(id=t, debit_account_id=income, credit_account_id=h.wallet_account_id, amount=p,
                                     code="crowdinvesting.income_paid", currency=currency)
                         for h, p, t in zip(held, paid, ids, strict=True) if p]
            rows = [(distribution_id, h.user_id, h.contribution_minor, p, t)
                    for h, p, t in zip(held, paid, ids, strict=True)]
            return transfers, rows

        loop = asyncio.get_running_loop()
        starts = range(0, len(holdings), size)
        upcoming = loop.run_in_executor(None, batch, 0)
        try:
            for start in starts:
                transfers, rows = await upcoming
                if start + size < len(holdings):
                    upcoming = loop.run_in_executor(None, batch, start + size)
                await conn.copy_records_to_table("crowd_payouts", records=rows, columns=[
                    "distribution_id", "user_id", "contribution_minor", "amount_minor", "transfer_id"])
                await self._submit(transfers)
        finally:
            upcoming.cancel()  # a refusal stops the loop; a batch being built has nothing to undo

    async def _submit(self, transfers: list[NewTransfer]) -> None:
        results = await self.accounts.ledger.submit(transfers)
        refused = [r for r in results if not r.accepted]
        if refused:
            raise Conflict(f"the ledger refused {len(refused)} of {len(results)} income transfers: "
                           f"{refused[0].code} {refused[0].detail}".strip())

    async def distributions(self, project_id: UUID | None = None) -> list[Distribution]:
        rows = await self.db.fetch("SELECT * FROM crowd_distributions WHERE $1::uuid IS NULL OR project_id = $1 "
                                   "ORDER BY created_at DESC", project_id)
        return [Distribution.from_record(r, created=False) for r in rows]

    async def distribution(self, distribution_id: UUID) -> Distribution:
        row = await self.db.fetchrow("SELECT * FROM crowd_distributions WHERE id = $1", distribution_id)
        if row is None:
            raise NotFound(f"no distribution {distribution_id}")
        return Distribution.from_record(row, created=False)

    async def payouts(self, distribution_id: UUID, *, limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT user_id, contribution_minor, amount_minor, transfer_id FROM crowd_payouts "
                                   "WHERE distribution_id = $1 ORDER BY amount_minor DESC, user_id LIMIT $2 OFFSET $3",
                                   distribution_id, limit, offset)
        return [{"user_id": str(r["user_id"]), "contribution_minor": r["contribution_minor"],
                 "amount_minor": r["amount_minor"], "transfer_id": str(r["transfer_id"]) if r["transfer_id"] else None}
                for r in rows]

    async def income_of(self, user_id: UUID) -> dict[UUID, int]:
        """Income received by an investor, per project."""
        rows = await self.db.fetch(
            "SELECT d.project_id, sum(p.amount_minor)::bigint AS received FROM crowd_payouts p "
            "JOIN crowd_distributions d ON d.id = p.distribution_id WHERE p.user_id = $1 GROUP BY d.project_id",
            user_id)
        return {r["project_id"]: r["received"] for r in rows}
