"""The cooperative's work: programs, joining, share contributions, valuation with allotment, repayments.

Every money movement is a ledger transfer posted in the same transaction as the row that records
it; ids follow from the member and the caller's idempotency key (a movement) or from the member (a
purchase), so retries and re-runs never move money twice. A valuation is stored once per program
and business date: running it again answers the stored one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from core.money import from_minor
from core.projects.errors import Conflict, Invalid, NotFound
from plugins.cooperative import queue
from plugins.cooperative.accounts import CooperativeAccounts, tid
from plugins.cooperative.programs import rules_of

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.cooperative.settings import CooperativeSettings

SCORE_PLACES = Decimal("0.000001")
#: A share movement's signed amount: withdrawals reduce the share (and the score) symmetrically.
SIGNED = "CASE WHEN kind = 'withdrawal' THEN -amount_minor ELSE amount_minor END"


def score_decimal(score: Fraction) -> Decimal:
    """The exact score, shown to six decimal places (ranking uses the exact fraction)."""
    with localcontext() as ctx:
        ctx.prec = 60
        return (Decimal(score.numerator) / Decimal(score.denominator)).quantize(SCORE_PLACES)


def movement_id(member_id: uuid.UUID, key: str) -> uuid.UUID:
    return tid("movement", member_id, key)


class CooperativeService:
    def __init__(self, platform: Platform, settings: CooperativeSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = CooperativeAccounts(platform, settings)

    @property
    def db(self):
        return self.platform.db

    async def today(self) -> dt.date:
        from core.jobs.runtime import Jobs

        return await self.platform.service(Jobs).calendar.today()

    # -- programs -----------------------------------------------------------------------------------

    async def create_program(self, fields: dict[str, Any]) -> Any:
        row = await self.db.fetchrow(
            """INSERT INTO coop_programs (id, code, name, currency, min_target_minor, max_target_minor, min_share,
                   min_membership_days, reserve_ratio, strict_queue, valuation_day, instalment_count, instalment_days)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
               ON CONFLICT (code) DO NOTHING RETURNING *""",
            uuid.uuid4(), fields["code"], fields["name"], fields["currency"], fields["min_target_minor"],
            fields["max_target_minor"], fields["min_share"], fields["min_membership_days"], fields["reserve_ratio"],
            fields["strict_queue"], fields["valuation_day"], fields["instalment_count"], fields["instalment_days"])
        if row is None:
            raise Conflict(f"code: a program {fields['code']!r} exists already")
        return row

    async def programs(self, *, active_only: bool = False) -> list[Any]:
        where = "WHERE active" if active_only else ""
        return await self.db.fetch(f"SELECT * FROM coop_programs {where} ORDER BY created_at, code")

    async def program(self, code: str) -> Any:
        row = await self.db.fetchrow("SELECT * FROM coop_programs WHERE code = $1", code)
        if row is None:
            raise NotFound(f"no cooperative program {code!r}")
        return row

    # -- members ------------------------------------------------------------------------------------

    async def join(self, code: str, user_id: uuid.UUID, target_minor: int) -> Any:
        """Join ``code`` to save for ``target_minor``; joining again answers the existing membership."""
        program = await self.program(code)
        if not program["active"]:
            raise Conflict(f"the program {code!r} takes no new members")
        if not program["min_target_minor"] <= target_minor <= program["max_target_minor"]:
            currency = program["currency"]
            raise Invalid(f"the program's targets are from {from_minor(program['min_target_minor'], currency)} to "
                          f"{from_minor(program['max_target_minor'], currency)}", field="target")
        await self.db.execute(
            """INSERT INTO coop_members (id, program_id, user_id, target_minor, joined_on)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (program_id, user_id) DO NOTHING""",
            uuid.uuid4(), program["id"], user_id, target_minor, await self.today())
        return await self.member(program, user_id)

    async def member(self, program: Any, user_id: uuid.UUID) -> Any:
        row = await self.db.fetchrow("SELECT * FROM coop_members WHERE program_id = $1 AND user_id = $2",
                                     program["id"], user_id)
        if row is None:
            raise NotFound(f"you are not a member of {program['code']!r}: join first")
        return row

    async def movements(self, member_id: uuid.UUID) -> list[queue.Movement]:
        """The member's share movements, withdrawals negative."""
        rows = await self.db.fetch(
            f"SELECT value_date, {SIGNED} AS amount FROM coop_movements WHERE member_id = $1 "
            "AND kind <> 'repayment' ORDER BY value_date, created_at", member_id)
        return [queue.Movement(r["value_date"], r["amount"]) for r in rows]

    async def _move(self, code: str, user_id: uuid.UUID, amount_minor: int, key: str, kind: str) -> Any:
        program = await self.program(code)
        async with self.db.transaction() as conn:
            member = await conn.fetchrow(
                "SELECT * FROM coop_members WHERE program_id = $1 AND user_id = $2 FOR UPDATE", program["id"], user_id)
            if member is None:
                raise NotFound(f"you are not a member of {code!r}: join first")
            existing = await conn.fetchrow(
                "SELECT * FROM coop_movements WHERE member_id = $1 AND idempotency_key = $2", member["id"], key)
            if existing is not None:
                if existing["kind"] != kind or existing["amount_minor"] != amount_minor:
                    raise Conflict("idempotency_key: used before for a different payment")
                return existing
            if kind in ("contribution", "withdrawal") and member["status"] != "saving":
                raise Conflict("the purchase is allotted: pay your instalments as repayments now")
            if kind == "withdrawal":
                share = await conn.fetchval(
                    f"SELECT COALESCE(sum({SIGNED}), 0)::bigint FROM coop_movements WHERE member_id = $1 "
                    "AND kind <> 'repayment'", member["id"])
                if amount_minor > share:
                    raise Invalid(f"at most your share: {from_minor(share, program['currency'])}", field="amount")
            if kind == "repayment":
                if member["status"] != "allotted":
                    raise Conflict("nothing to repay before the allotment: contribute to your share")
                owed = member["obligation_minor"] - member["repaid_minor"]
                if amount_minor > owed:
                    raise Invalid(f"at most what you owe: {from_minor(owed, program['currency'])}", field="amount")
                await conn.execute("UPDATE coop_members SET repaid_minor = repaid_minor + $2 WHERE id = $1",
                                   member["id"], amount_minor)
            movement = movement_id(member["id"], key)
            row = await conn.fetchrow(
                """INSERT INTO coop_movements (id, member_id, kind, amount_minor, value_date, idempotency_key)
                   VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
                movement, member["id"], kind, amount_minor, await self.today(), key)
            wallet, pool = await self.accounts.wallet(user_id), await self.accounts.pool(program["id"])
            debit, credit = (pool, wallet) if kind == "withdrawal" else (wallet, pool)
            short = ("the pool holds too little cash now: the rest of the shares paid for purchases"
                     if kind == "withdrawal" else "not enough money in the wallet: top it up first")
            await self.accounts.submit([self.accounts.transfer(movement, debit, credit, amount_minor,
                                                               f"cooperative.{kind}", member=member["id"])], short=short)
            return row

    async def contribute(self, code: str, user_id: uuid.UUID, amount_minor: int, *, idempotency_key: str) -> Any:
        """A share contribution from the member's wallet into the program's pool, dated the business date."""
        return await self._move(code, user_id, amount_minor, idempotency_key, "contribution")

    async def withdraw(self, code: str, user_id: uuid.UUID, amount_minor: int, *, idempotency_key: str) -> Any:
        """Take part of the share back from the pool to the wallet, before allotment (the score drops with it)."""
        return await self._move(code, user_id, amount_minor, idempotency_key, "withdrawal")

    async def repay(self, code: str, user_id: uuid.UUID, amount_minor: int, *, idempotency_key: str) -> Any:
        """An allotted member pays back part of their obligation from the wallet into the pool."""
        return await self._move(code, user_id, amount_minor, idempotency_key, "repayment")

    async def instalments(self, member_id: uuid.UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM coop_instalments WHERE member_id = $1 ORDER BY number", member_id)

    async def membership(self, code: str, user_id: uuid.UUID) -> dict[str, Any]:
        """The member's view: own balance, score today, rank in the last queue, obligation and plan."""
        program = await self.program(code)
        member = await self.member(program, user_id)
        today = await self.today()
        moves = await self.movements(member["id"])
        place = await self.db.fetchrow(
            """SELECT q.rank, q.score, v.valuation_date FROM coop_queue q JOIN coop_valuations v ON v.id = q.valuation_id
               WHERE q.member_id = $1 ORDER BY v.valuation_date DESC LIMIT 1""", member["id"])
        return {
            "program": program["code"], "member_id": str(member["id"]), "status": member["status"],
            "target_minor": member["target_minor"], "joined_on": member["joined_on"].isoformat(),
            "balance_minor": queue.balance(moves, today),
            "score": str(score_decimal(queue.score(moves, member["target_minor"], today))),
            "rank": place["rank"] if place else None,
            "ranked_on": place["valuation_date"].isoformat() if place else None,
            "allotted_on": member["allotted_on"].isoformat() if member["allotted_on"] else None,
            "obligation_minor": member["obligation_minor"], "repaid_minor": member["repaid_minor"],
            "owed_minor": member["obligation_minor"] - member["repaid_minor"],
            "instalments": [{"number": i["number"], "due_on": i["due_on"].isoformat(),
                             "amount_minor": i["amount_minor"]} for i in await self.instalments(member["id"])],
        }

    # -- valuation ----------------------------------------------------------------------------------

    def valuates_on(self, program: Any, date: dt.date) -> bool:
        return program["valuation_day"] == 0 or date.day == program["valuation_day"]

    async def valuate_all(self, date: dt.date) -> int:
        """Valuate every active program whose calendar has ``date``; returns how many were valuated now."""
        done = 0
        for program in await self.programs(active_only=True):
            if self.valuates_on(program, date):
                _valuation, new = await self.valuate(program["code"], date)
                done += new
        return done

    async def valuate(self, code: str, date: dt.date) -> tuple[Any, bool]:
        """Score, publish the queue and allot at ``date``, once: a second call answers the stored valuation."""
        program = await self.program(code)
        async with self.db.transaction() as conn:
            await conn.execute("SELECT 1 FROM coop_programs WHERE id = $1 FOR UPDATE", program["id"])
            stored = await conn.fetchrow(
                "SELECT * FROM coop_valuations WHERE program_id = $1 AND valuation_date = $2", program["id"], date)
            if stored is not None:
                return stored, False
            members = await conn.fetch(
                "SELECT * FROM coop_members WHERE program_id = $1 AND status = 'saving' FOR UPDATE", program["id"])
            moves: dict[uuid.UUID, list[queue.Movement]] = {m["id"]: [] for m in members}
            for row in await conn.fetch(
                    f"SELECT member_id, value_date, {SIGNED} AS amount FROM coop_movements "
                    "WHERE member_id = ANY($1::uuid[]) AND kind <> 'repayment' AND value_date <= $2", list(moves), date):
                moves[row["member_id"]].append(queue.Movement(row["value_date"], row["amount"]))
            candidates = [queue.Candidate(m["id"], m["joined_on"], m["target_minor"], tuple(moves[m["id"]]),
                                          m["in_arrears"]) for m in members]
            cash = await self.accounts.pool_balance(program["id"])
            result = queue.allot(candidates, rules_of(program), date, cash_minor=cash)
            liabilities = sum(max(0, p.balance_minor) for p in result.queue)
            valuation = await conn.fetchrow(
                """INSERT INTO coop_valuations (id, program_id, valuation_date, cash_minor, liabilities_minor,
                       available_minor, allotted_minor, allotted_count)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
                uuid.uuid4(), program["id"], date, cash, liabilities, result.available_minor, result.allotted_minor,
                len(result.allotted))
            await conn.executemany(
                """INSERT INTO coop_queue (valuation_id, member_id, rank, score, balance_minor, eligible, allotted)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                [(valuation["id"], p.member_id, p.rank, score_decimal(p.score), p.balance_minor, p.eligible,
                  p.allotted) for p in result.queue])
            by_id = {m["id"]: m for m in members}
            for place in result.queue:
                if place.allotted:
                    await self._allot(conn, program, by_id[place.member_id], place.balance_minor, date)
            return valuation, True

    async def _allot(self, conn: Any, program: Any, member: Any, own_minor: int, date: dt.date) -> None:
        """Pay the member's purchase from the pool and record what they still owe as instalments."""
        owed = queue.obligation(member["target_minor"], own_minor)
        await conn.execute(
            "UPDATE coop_members SET status = 'allotted', allotted_on = $2, obligation_minor = $3 WHERE id = $1",
            member["id"], date, owed)
        if owed:
            first_due = date + dt.timedelta(days=program["instalment_days"])
            await conn.executemany(
                "INSERT INTO coop_instalments (member_id, number, due_on, amount_minor) VALUES ($1, $2, $3, $4)",
                [(member["id"], n, due, amount) for n, due, amount in
                 queue.instalments(owed, program["instalment_count"], first_due, program["instalment_days"])])
        await self.accounts.submit([self.accounts.transfer(
            tid("purchase", member["id"]), await self.accounts.pool(program["id"]), await self.accounts.purchases(),
            member["target_minor"], "cooperative.purchase", member=member["id"], valuation_date=date)])

    async def latest_valuation(self, program: Any) -> Any:
        return await self.db.fetchrow(
            "SELECT * FROM coop_valuations WHERE program_id = $1 ORDER BY valuation_date DESC LIMIT 1", program["id"])

    async def queue_of(self, valuation_id: uuid.UUID) -> list[Any]:
        return await self.db.fetch(
            "SELECT * FROM coop_queue WHERE valuation_id = $1 ORDER BY rank", valuation_id)

    async def valuations(self, program_id: uuid.UUID | None = None, limit: int = 100) -> list[Any]:
        return await self.db.fetch(
            """SELECT v.*, p.code FROM coop_valuations v JOIN coop_programs p ON p.id = v.program_id
               WHERE $1::uuid IS NULL OR v.program_id = $1 ORDER BY v.valuation_date DESC, p.code LIMIT $2""",
            program_id, limit)

    async def pool_state(self, program: Any) -> dict[str, Any]:
        """Transparency: what the pool holds now, what the members saved, what was paid out."""
        counts = await self.db.fetchrow(
            """SELECT count(*) FILTER (WHERE status = 'saving') AS saving,
                      count(*) FILTER (WHERE status = 'allotted') AS allotted,
                      COALESCE(sum(obligation_minor - repaid_minor), 0)::bigint AS owed
               FROM coop_members WHERE program_id = $1""", program["id"])
        savings = await self.db.fetchval(
            f"""SELECT COALESCE(sum({SIGNED}), 0)::bigint FROM coop_movements mv
               JOIN coop_members m ON m.id = mv.member_id
               WHERE m.program_id = $1 AND m.status = 'saving' AND mv.kind <> 'repayment'""", program["id"])
        paid_out = await self.db.fetchval(
            "SELECT COALESCE(sum(target_minor), 0)::bigint FROM coop_members WHERE program_id = $1 "
            "AND status = 'allotted'", program["id"])
        return {"cash_minor": await self.accounts.pool_balance(program["id"]), "savings_minor": savings,
                "purchases_minor": paid_out, "owed_to_pool_minor": counts["owed"],
                "members_saving": counts["saving"], "members_allotted": counts["allotted"]}
