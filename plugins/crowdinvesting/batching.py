"""Group commit for investments: concurrent investments share one transaction.

Every investment locks the same few rows: its stage (the cap), the project's yearly counter and
the stage's escrow account. One transaction per investment holds those locks from its first
update to its commit, so a popular stage takes investments one commit at a time, and the
coroutine holding the locks also waits its turn on the event loop. Here, as in the ledger's
group commit, investments queue up and a writer takes everything queued and applies it in one
transaction: every lock is taken once, in the same order as a single investment takes them
(investors' yearly rows by id, projects' yearly rows, stages by id, then the ledger), every rule is
checked in order on the totals read under those locks, the accepted investments are written
with one statement per table and one ledger batch, and everything commits once.

Each investment still gets its own answer: the investment, or the refusal that concerns it
alone (a limit, the cap, the balance). A batch that fails for any other reason is split and
each investment runs alone (:meth:`InvestmentService.invest_now`), so one bad request fails by
itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import logging
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.projects.errors import Conflict
from core.projects.models import Project, Stage
from core.web import i18n
from core.web.i18n import gettext as _
from plugins.crowdinvesting import limits
from plugins.crowdinvesting.accounts import tid
from plugins.crowdinvesting.models import Investment, InvestorStatus, Terms

if TYPE_CHECKING:
    from plugins.crowdinvesting.investing import InvestmentService

log = logging.getLogger(__name__)

MAX_BATCH = 500
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError, asyncpg.UniqueViolationError)


@dataclass
class Ask:
    """One investment waiting for its batch."""

    user_id: UUID
    project_key: UUID | str
    amount_minor: int
    idempotency_key: str | None
    future: asyncio.Future[Investment] = field(repr=False)
    #: Found by the batch (the key may be an id or an address).
    project: Project | None = None
    #: The requester's language: refusals are written in it, although the batch runs elsewhere.
    locale: str = field(default_factory=i18n.current_locale)


class InvestmentBatcher:
    def __init__(self, service: InvestmentService, *, writers: int = 1, max_batch: int = MAX_BATCH) -> None:
        self.service = service
        self.writers = writers
        self.max_batch = max_batch
        self._queue: deque[Ask] = deque()
        self._wakeup = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[UUID] = set()  # investors in a batch being written: their next ask waits for it
        self._stopping = False
        self.batches = 0

    def start(self) -> None:
        if self._tasks:
            return
        self._stopping = False
        for index in range(self.writers):
            # A context of its own: a writer must not inherit the connection of whoever started it.
            self._tasks.append(asyncio.get_running_loop().create_task(
                self._writer(), name=f"crowdinvesting-writer-{index}", context=contextvars.Context()))

    async def stop(self) -> None:
        self._stopping = True
        self._wakeup.set()
        tasks, self._tasks = self._tasks, []
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
        while self._queue:
            ask = self._queue.popleft()
            if not ask.future.done():
                ask.future.set_exception(RuntimeError("crowdinvesting stopped before this investment was made"))

    async def submit(self, user_id: UUID, project_key: UUID | str, amount_minor: int, idempotency_key: str | None
                     ) -> Investment:
        if not self._tasks:
            self.start()
        if self._stopping:
            raise RuntimeError("crowdinvesting is stopping")
        future: asyncio.Future[Investment] = asyncio.get_running_loop().create_future()
        self._queue.append(Ask(user_id, project_key, amount_minor, idempotency_key, future))
        self._wakeup.set()
        return await future

    def _take(self) -> list[Ask]:
        """Queued asks up to a batch; an investor already in a batch being written waits for it to commit."""
        taken: list[Ask] = []
        skipped: list[Ask] = []
        users: set[UUID] = set()
        while self._queue and len(taken) < self.max_batch:
            ask = self._queue.popleft()
            if ask.user_id in self._busy:
                skipped.append(ask)
                continue
            taken.append(ask)
            users.add(ask.user_id)
        self._queue.extendleft(reversed(skipped))
        self._busy |= users
        return taken

    async def _writer(self) -> None:
        while True:
            asks = self._take()
            if not asks:
                if self._stopping:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            try:
                await self._write(asks)
            finally:
                self._busy -= {a.user_id for a in asks}
                self._wakeup.set()

    async def _write(self, asks: list[Ask]) -> None:
        try:
            answers = await self._with_retries(asks)
        except Exception:
            log.warning("investment batch of %d failed; running each alone", len(asks), exc_info=True)
            for ask in asks:
                if ask.future.done():
                    continue
                try:
                    ask.future.set_result(await self.service.invest_now(
                        ask.user_id, await self.service._crowd_project(ask.project_key), ask.amount_minor,
                        idempotency_key=ask.idempotency_key))
                except asyncpg.UniqueViolationError:
                    found = await self.service._by_key(ask.user_id, ask.idempotency_key)
                    if found is None:
                        ask.future.set_exception(Conflict("this investment could not be made; try again"))
                    else:
                        ask.future.set_result(found)
                except Exception as exc:
                    ask.future.set_exception(exc)
            return
        self.batches += 1
        for ask, answer in zip(asks, answers, strict=True):
            if ask.future.done():
                continue  # the caller went away; its investment stands
            if isinstance(answer, BaseException):
                ask.future.set_exception(answer)
            else:
                ask.future.set_result(answer)

    async def _with_retries(self, asks: list[Ask]) -> list[Investment | Exception]:
        for attempt in range(1, 6):
            try:
                return await apply_batch(self.service, asks)
            except RETRYABLE:
                if attempt == 5:
                    raise
                await asyncio.sleep(random.uniform(0, 0.002 * attempt))
        raise AssertionError("unreachable")


@dataclass
class _Plan:
    """An accepted candidate: the investment row it will become and its transfer."""

    index: int
    ask: Ask
    stage: Stage
    investment_id: UUID
    year: int
    wallet: int


async def apply_batch(service: InvestmentService, asks: list[Ask]) -> list[Investment | Exception]:
    """Check and make a batch of investments in one transaction; one answer per ask, in order."""
    projects = service.projects
    now = dt.datetime.now(dt.UTC)
    year = limits.calendar_year(now, service.timezone)
    today = service.today(now)
    answers: list[Investment | Exception | None] = [None] * len(asks)
    async with service.db.transaction() as conn:
        await _find_projects(service, conn, asks, answers)
        # Repeated requests: an idempotency key already used answers with its investment.
        keyed = [(a.user_id, a.idempotency_key) for a, answer in zip(asks, answers, strict=True)
                 if a.idempotency_key and answer is None]
        if keyed:
            rows = await conn.fetch(
                "SELECT i.* FROM crowd_investments i JOIN unnest($1::uuid[], $2::text[]) AS k(user_id, key) "
                "ON i.user_id = k.user_id AND i.idempotency_key = k.key",
                [u for u, _k in keyed], [k for _u, k in keyed])
            done = {(r["user_id"], r["idempotency_key"]): Investment.from_record(r) for r in rows}
            first_of: dict[tuple[UUID, str], int] = {}
            for i, ask in enumerate(asks):
                key = (ask.user_id, ask.idempotency_key)
                if not ask.idempotency_key or answers[i] is not None:
                    continue
                if key in done:
                    answers[i] = _same_or_conflict(done[key], ask)
                elif key in first_of:
                    answers[i] = _Later(first_of[key])  # the same request twice in one batch
                else:
                    first_of[key] = i
        pending = [i for i, a in enumerate(answers) if a is None]
        if not pending:
            return _resolve(answers, asks)

        stage_ids, terms = await _terms_and_stages(service, conn, {asks[i].project.id for i in pending})
        statuses, referred = await _investors(service, conn, {asks[i].user_id for i in pending})

        users = sorted({asks[i].user_id for i in pending})
        # Lock and read each investor's yearly row, creating it if needed, in id order. The no-op
        # update is what makes ON CONFLICT lock the row and return its latest committed totals.
        years = {r["user_id"]: [r["invested_minor"], r["declared_elsewhere_minor"]] for r in await conn.fetch(
            """INSERT INTO crowd_investor_years AS y (user_id, year) SELECT u, $2 FROM unnest($1::uuid[]) AS u ORDER BY u
               ON CONFLICT (user_id, year) DO UPDATE SET invested_minor = y.invested_minor
               RETURNING user_id, invested_minor, declared_elsewhere_minor""", users, year)}
        already: dict[tuple[UUID, UUID], int] = {}
        if any(t.max_per_investor_minor for t in terms.values()) or any(
                r.scope == "investor_stage" for r in service.settings.limit_rules):
            for r in await conn.fetch(
                    "SELECT user_id, stage_id, sum(amount_minor)::bigint AS amount FROM crowd_investments "
                    "WHERE user_id = ANY($1::uuid[]) AND stage_id = ANY($2::uuid[]) AND status = 'active' "
                    "GROUP BY user_id, stage_id", users, [s for s in stage_ids.values() if s is not None]):
                already[(r["user_id"], r["stage_id"])] = r["amount"]
        project_ids = sorted({asks[i].project.id for i in pending})
        raised = {r["project_id"]: r["raised_minor"] for r in await conn.fetch(
            """INSERT INTO crowd_project_years AS y (project_id, year) SELECT p, $2 FROM unnest($1::uuid[]) AS p
               ORDER BY p ON CONFLICT (project_id, year) DO UPDATE SET raised_minor = y.raised_minor
               RETURNING project_id, raised_minor""", project_ids, year)}
        locked = await projects.lock_stages([s for s in stage_ids.values() if s is not None])

        plans: list[_Plan] = []
        taken: dict[UUID, int] = {}
        for i in pending:
            ask = asks[i]
            stage_id = stage_ids[ask.project.id]
            stage = locked.get(stage_id) if stage_id is not None else None
            with speaking(ask.locale):
                refusal = _check(service, ask, stage, terms[ask.project.id], statuses[ask.user_id], today, now,
                                 year, years[ask.user_id], already, raised.get(ask.project.id, 0), taken)
            if refusal is not None:
                answers[i] = refusal
                continue
            assert stage is not None
            years[ask.user_id][0] += ask.amount_minor
            already[(ask.user_id, stage.id)] = already.get((ask.user_id, stage.id), 0) + ask.amount_minor
            raised[ask.project.id] = raised.get(ask.project.id, 0) + ask.amount_minor
            taken[stage.id] = taken.get(stage.id, 0) + ask.amount_minor
            plans.append(_Plan(i, ask, stage, uuid.uuid4(), year, statuses[ask.user_id].wallet_account_id))
        if not plans:
            return _resolve(answers, asks)

        accepted = await _move_money(service, plans, answers)
        if accepted:
            await _write(service, conn, accepted, now, answers, referred)
    return _resolve(answers, asks)


async def _find_projects(service: InvestmentService, conn: Any, asks: list[Ask], answers: list[Any]) -> None:
    """Every ask's project in one query, by id or by address; an ask for no open project is refused."""
    from core.projects.errors import NotFound

    keys = {str(a.project_key) for a in asks}
    ids = []
    for key in keys:
        with contextlib.suppress(ValueError):
            ids.append(UUID(key))
    rows = await conn.fetch("SELECT * FROM projects_projects WHERE id = ANY($1::uuid[]) OR slug = ANY($2::text[])",
                            ids, list(keys))
    found = {}
    for row in rows:
        project = Project.from_record(row)
        found[str(project.id)] = found[project.slug] = project
    for i, ask in enumerate(asks):
        project = found.get(str(ask.project_key))
        try:
            if project is None:
                with speaking(ask.locale):
                    raise NotFound(_("no project %(key)s is open to investors", key=ask.project_key))
            with speaking(ask.locale):
                ask.project = service.check_project(project, ask.project_key)
        except Exception as exc:
            answers[i] = exc


@contextlib.contextmanager
def speaking(locale: str):
    """Write messages in ``locale`` for a while (the writer serves requests in several languages)."""
    token = i18n.set_locale(locale)
    try:
        yield
    finally:
        i18n._current_locale.reset(token)


class _Later:
    """An answer that is another ask's answer (the same idempotency key twice in one batch)."""

    def __init__(self, index: int) -> None:
        self.index = index


def _same_or_conflict(found: Investment, ask: Ask) -> Investment | Exception:
    if found.amount_minor != ask.amount_minor or found.project_id != ask.project.id:
        return Conflict("this idempotency key was already used for a different investment")
    return found


def _resolve(answers: list[Any], asks: list[Ask]) -> list[Investment | Exception]:
    resolved: list[Investment | Exception] = []
    for answer, ask in zip(answers, asks, strict=True):
        if isinstance(answer, _Later):
            first = answers[answer.index]
            answer = _same_or_conflict(first, ask) if isinstance(first, Investment) else first
        resolved.append(answer)
    return resolved


async def _terms_and_stages(service: InvestmentService, conn: Any, project_ids: set[UUID]
                            ) -> tuple[dict[UUID, UUID | None], dict[UUID, Terms]]:
    """Each project's collecting stage (locked later) and investment terms, in one query."""
    rows = await conn.fetch(
        """SELECT p.id AS project_id, t.min_investment_minor, t.max_per_investor_minor, t.expected_yield_bp,
                  t.term_months, t.payout_period, s.id AS stage_id
           FROM unnest($1::uuid[]) AS p(id)
           LEFT JOIN crowd_terms t ON t.project_id = p.id
           LEFT JOIN LATERAL (SELECT id FROM projects_stages WHERE project_id = p.id AND status = 'collecting'
                              ORDER BY position LIMIT 1) s ON true""", list(project_ids))
    default = service.settings.minor(service.settings.min_investment)
    stages = {r["project_id"]: r["stage_id"] for r in rows}
    terms = {r["project_id"]: Terms.from_record(r) if r["min_investment_minor"] is not None
             else Terms(r["project_id"], default) for r in rows}
    return stages, terms


async def _investors(service: InvestmentService, conn: Any, users: set[UUID]
                     ) -> tuple[dict[UUID, InvestorStatus], set[UUID]]:
    """Investors' status and wallets (registering newcomers), and who among them waits for a referral bonus."""
    rows = await conn.fetch(
        "SELECT v.*, EXISTS (SELECT 1 FROM crowd_referrals r WHERE r.referred_id = v.user_id AND r.status = 'pending') "
        "AS referred FROM crowd_investors v WHERE v.user_id = ANY($1::uuid[])", list(users))
    found = {r["user_id"]: InvestorStatus(r["user_id"], r["qualified"], r["qualified_until"], r["wallet_account_id"])
             for r in rows}
    referred = {r["user_id"] for r in rows if r["referred"]}
    newcomers = [u for u in sorted(users) if u not in found or found[u].wallet_account_id is None]
    for user in newcomers:
        found[user] = await service._register(conn, user)
    if newcomers:
        referred |= {r["referred_id"] for r in await conn.fetch(
            "SELECT referred_id FROM crowd_referrals WHERE referred_id = ANY($1::uuid[]) AND status = 'pending'",
            newcomers)}
    return found, referred


def _check(service: InvestmentService, ask: Ask, stage: Stage | None, terms: Terms, status: InvestorStatus,
           today: dt.date, now: dt.datetime, year: int, totals: list[int], already: dict[tuple[UUID, UUID], int],
           raised: int, taken: dict[UUID, int]) -> Exception | None:
    """The first rule this investment breaks, on the totals so far (this batch's earlier ones included)."""
    from core.projects.errors import Invalid

    currency = service.settings.currency
    if not isinstance(ask.amount_minor, int) or ask.amount_minor <= 0:
        return Invalid(_("the amount must be positive"), field="amount")
    if stage is None:
        return Conflict(_("%(project)s: no stage is collecting money now", project=ask.project.title))
    if ask.amount_minor < terms.min_investment_minor:
        return Invalid(_("the minimum investment in this project is %(amount)s",
                         amount=service.money(terms.min_investment_minor)), field="amount")
    caps = limits.binding_caps(service.settings, qualified=status.is_qualified(today),
                               stage_cap_minor=terms.max_per_investor_minor)
    return (limits.investor_year_refusal(caps, totals[0], totals[1], ask.amount_minor, currency, year)
            or limits.investor_stage_refusal(caps, already.get((ask.user_id, stage.id), 0), ask.amount_minor, currency)
            or limits.project_year_refusal(caps, raised, ask.amount_minor, currency, year)
            or service.projects.refusal(stage, taken.get(stage.id, 0) + ask.amount_minor, now))


async def _move_money(service: InvestmentService, plans: list[_Plan], answers: list[Any]) -> list[_Plan]:
    """One ledger batch for every candidate; a wallet that cannot pay refuses only its own investment."""
    from core.ledger import NewTransfer

    escrows = {p.stage.id: (await service.projects.escrow_account(p.stage)).id for p in plans}
    requests = [NewTransfer(id=tid("invest", p.investment_id), debit_account_id=p.wallet,
                            credit_account_id=escrows[p.stage.id], amount=p.ask.amount_minor,
                            code="crowdinvesting.invest", currency=service.settings.currency,
                            metadata={"investment": str(p.investment_id), "stage": str(p.stage.id)})
                for p in plans]
    results = await service.accounts.ledger.submit(requests)
    accepted = []
    for plan, result in zip(plans, results, strict=True):
        if result.accepted:
            accepted.append(plan)
        elif result.code == "exceeds_credits":
            with speaking(plan.ask.locale):
                answers[plan.index] = service.short_of_money(await service.accounts.balance(plan.wallet),
                                                             plan.ask.amount_minor)
        else:
            answers[plan.index] = Conflict(f"the ledger refused the investment: {result.code} {result.detail}".strip())
    return accepted


async def _write(service: InvestmentService, conn: Any, accepted: list[_Plan], now: dt.datetime,
                 answers: list[Any], referred: set[UUID]) -> None:
    """The accepted investments' rows and every counter, one statement each."""
    settings = service.settings
    rows = await conn.fetch(
        """INSERT INTO crowd_investments (id, user_id, project_id, stage_id, amount_minor, currency, source, year,
                                          idempotency_key, transfer_id, created_at)
           SELECT id, user_id, project_id, stage_id, amount, $6, 'wallet', $7, key, transfer, $8
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $9::text[], $10::uuid[])
                AS t(id, user_id, project_id, stage_id, amount, key, transfer)
           RETURNING *""",
        [p.investment_id for p in accepted], [p.ask.user_id for p in accepted], [p.ask.project.id for p in accepted],
        [p.stage.id for p in accepted], [p.ask.amount_minor for p in accepted], settings.currency, accepted[0].year,
        now, [p.ask.idempotency_key for p in accepted], [tid("invest", p.investment_id) for p in accepted])
    made = {r["id"]: Investment.from_record(r) for r in rows}
    await conn.execute(
        """UPDATE crowd_investor_years y SET invested_minor = y.invested_minor + d.amount
           FROM (SELECT user_id, sum(amount)::bigint AS amount FROM unnest($1::uuid[], $2::bigint[]) AS t(user_id, amount)
                 GROUP BY user_id) d
           WHERE y.user_id = d.user_id AND y.year = $3""",
        [p.ask.user_id for p in accepted], [p.ask.amount_minor for p in accepted], accepted[0].year)
    await conn.execute(
        """UPDATE crowd_project_years y SET raised_minor = y.raised_minor + d.amount
           FROM (SELECT project_id, sum(amount)::bigint AS amount
                 FROM unnest($1::uuid[], $2::bigint[]) AS t(project_id, amount) GROUP BY project_id) d
           WHERE y.project_id = d.project_id AND y.year = $3""",
        [p.ask.project.id for p in accepted], [p.ask.amount_minor for p in accepted], accepted[0].year)
    per_stage: dict[UUID, list[_Plan]] = {}
    for plan in accepted:
        per_stage.setdefault(plan.stage.id, []).append(plan)
    for stage_id in sorted(per_stage):
        plans = per_stage[stage_id]
        await service.projects.record_contribution(stage_id, sum(p.ask.amount_minor for p in plans), now=now,
                                                   count=len(plans))
    referred = set(referred)
    from plugins.crowdinvesting.referrals import ReferralService

    referrals = service.platform.service(ReferralService)
    for plan in accepted:
        investment = made[plan.investment_id]
        answers[plan.index] = investment
        if plan.ask.user_id in referred:
            referred.discard(plan.ask.user_id)  # the first of the batch is the one that counts
            batch = [p.investment_id for p in accepted if p.ask.user_id == plan.ask.user_id]
            await referrals.on_investment(conn, investment, batch)
    await service.notices.confirm([p.investment_id for p in accepted])
