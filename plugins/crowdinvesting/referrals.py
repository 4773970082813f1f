"""The referral program: links, and bonuses on a referred customer's first investment.

A customer's link carries their code. A new customer who follows it (and has not invested
yet) is recorded as referred; nobody can refer themselves, and a customer is referred at most
once. On the referred customer's first investment, in the same transaction, the bonuses are
paid from the platform's marketing account (the operator's own money, never investors'): to
the referrer and, if configured, to the new customer. Limits: a minimum first investment and a
number of rewarded referrals per referrer and year. If the marketing account cannot pay, the
referral waits as ``unfunded`` and the ``crowdinvesting.pay_referral_bonuses`` task pays it
later with the same transfer ids.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from plugins.crowdinvesting.accounts import CrowdAccounts, tid
from plugins.crowdinvesting.models import Investment
from plugins.crowdinvesting.notify import Notices

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.crowdinvesting.settings import CrowdinvestingSettings


class ReferralService:
    def __init__(self, platform: Platform, settings: CrowdinvestingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = CrowdAccounts(platform, settings)
        self.notices = Notices(platform)

    @property
    def db(self):
        return self.platform.db

    @property
    def rules(self):
        return self.settings.referral

    async def code_for(self, user_id: UUID) -> str:
        """The customer's referral code, made on first use."""
        code = await self.db.fetchval("SELECT code FROM crowd_referral_codes WHERE user_id = $1", user_id)
        while code is None:
            candidate = base64.b32encode(os.urandom(5)).decode()  # 8 characters, 40 bits
            try:
                code = await self.db.fetchval(
                    "INSERT INTO crowd_referral_codes (user_id, code) VALUES ($1, $2) "
                    "ON CONFLICT (user_id) DO UPDATE SET code = crowd_referral_codes.code RETURNING code",
                    user_id, candidate)
            except asyncpg.UniqueViolationError:
                continue  # the code is someone else's; draw again
        return code

    def link(self, code: str) -> str:
        return f"{self.platform.core.web.base_url.rstrip('/')}/crowdinvesting/r/{code}"

    async def claim(self, referred_id: UUID, code: str) -> dict[str, Any]:
        """Record that ``referred_id`` came through ``code``."""
        if not self.rules.enabled:
            raise Conflict(_("the referral program is closed"))
        code = code.strip().upper()
        referrer = await self.db.fetchval("SELECT user_id FROM crowd_referral_codes WHERE code = $1", code)
        if referrer is None:
            raise NotFound(_("no referral link with this code"))
        if referrer == referred_id:
            raise Conflict(_("you cannot refer yourself"))
        if self.rules.only_before_first_investment and await self.db.fetchval(
                "SELECT 1 FROM crowd_investments WHERE user_id = $1 LIMIT 1", referred_id):
            raise Conflict(_("referral links are for customers who have not invested yet"))
        row = await self.db.fetchrow(
            "INSERT INTO crowd_referrals (referred_id, referrer_id) VALUES ($1, $2) "
            "ON CONFLICT (referred_id) DO NOTHING RETURNING *", referred_id, referrer)
        if row is None:
            existing = await self.db.fetchval("SELECT referrer_id FROM crowd_referrals WHERE referred_id = $1",
                                              referred_id)
            if existing != referrer:
                raise Conflict(_("you were already referred by someone else"))
            row = await self.db.fetchrow("SELECT * FROM crowd_referrals WHERE referred_id = $1", referred_id)
        return _json(row)

    async def on_investment(self, conn: Any, investment: Investment, batch: list[UUID] | None = None) -> None:
        """Inside the investment's transaction: reward the referral if this is the first investment.

        ``batch`` lists the investments made in the same transaction, which are not "earlier".
        """
        referral = await conn.fetchrow("SELECT * FROM crowd_referrals WHERE referred_id = $1 AND status = 'pending' "
                                       "FOR UPDATE", investment.user_id)
        if referral is None:
            return
        earlier = await conn.fetchval("SELECT count(*) FROM crowd_investments WHERE user_id = $1 "
                                      "AND id <> ALL($2::uuid[])", investment.user_id, [investment.id, *(batch or [])])
        reason = ""  # stored in English, shown in the reader's language (templates translate it)
        if not self.rules.enabled:
            reason = "the program was closed"
        elif earlier:
            reason = "not the first investment"
        elif investment.amount_minor < self.settings.minor(self.rules.min_first_investment):
            reason = "the first investment was below the program's minimum"
        else:
            # The referrer's row serialises their rewards, so the yearly cap holds under concurrency.
            await conn.execute("SELECT 1 FROM crowd_referral_codes WHERE user_id = $1 FOR UPDATE",
                               referral["referrer_id"])
            rewarded = await conn.fetchval(
                "SELECT count(*) FROM crowd_referrals WHERE referrer_id = $1 AND year = $2 "
                "AND status IN ('rewarded', 'unfunded')", referral["referrer_id"], investment.year)
            if rewarded >= self.rules.max_rewards_per_year:
                reason = "the referrer reached this year's number of rewarded referrals"
        if reason:
            await conn.execute("UPDATE crowd_referrals SET status = 'ineligible', reason = $2, first_investment_id = $3 "
                               "WHERE referred_id = $1", investment.user_id, reason, investment.id)
            return
        await conn.execute(
            "UPDATE crowd_referrals SET status = 'unfunded', first_investment_id = $2, year = $3, "
            "referrer_bonus_minor = $4, referred_bonus_minor = $5 WHERE referred_id = $1",
            investment.user_id, investment.id, investment.year, self.settings.minor(self.rules.referrer_bonus),
            self.settings.minor(self.rules.referred_bonus))
        await self._pay(conn, investment.user_id)

    async def _pay(self, conn: Any, referred_id: UUID) -> bool:
        """Pay an ``unfunded`` referral's bonuses (both or neither); True when paid."""
        from core.ledger import NewTransfer

        row = await conn.fetchrow("SELECT * FROM crowd_referrals WHERE referred_id = $1 AND status = 'unfunded' "
                                  "FOR UPDATE", referred_id)
        if row is None:
            return False
        marketing = await self.accounts.marketing()
        requests = []
        for who, user_id, amount in (("referrer", row["referrer_id"], row["referrer_bonus_minor"]),
                                     ("referred", row["referred_id"], row["referred_bonus_minor"])):
            if amount > 0:
                requests.append(NewTransfer(id=tid("referral", referred_id, who), debit_account_id=marketing,
                                            credit_account_id=await self.accounts.wallet(user_id), amount=amount,
                                            code="crowdinvesting.referral_bonus", currency=self.settings.currency,
                                            metadata={"referred": str(referred_id), "to": who}))
        if requests:
            results = await self.accounts.ledger.submit(requests, atomic=True)
            if not all(r.accepted for r in results):
                return False  # the marketing account is short; the task tries again
        await conn.execute("UPDATE crowd_referrals SET status = 'rewarded', rewarded_at = now() WHERE referred_id = $1",
                           referred_id)
        await self.notices.later([row["referrer_id"]], "referral_bonus", {
            "amount_minor": row["referrer_bonus_minor"], "currency": self.settings.currency})
        return True

    async def pay_unfunded(self) -> int:
        """Retry the bonuses the marketing account could not pay (the scheduled task)."""
        rows = await self.db.fetch("SELECT referred_id FROM crowd_referrals WHERE status = 'unfunded' "
                                   "ORDER BY created_at LIMIT 500")
        paid = 0
        for row in rows:
            async with self.db.transaction() as conn:
                paid += await self._pay(conn, row["referred_id"])
        return paid

    async def referrals_of(self, referrer_id: UUID) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT * FROM crowd_referrals WHERE referrer_id = $1 ORDER BY created_at DESC",
                                   referrer_id)
        return [_json(r) for r in rows]

    async def all(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = await self.db.fetch("SELECT * FROM crowd_referrals ORDER BY created_at DESC LIMIT $1", limit)
        return [_json(r) for r in rows]


def _json(row: Any) -> dict[str, Any]:
    return {"referred_id": str(row["referred_id"]), "referrer_id": str(row["referrer_id"]), "status": row["status"],
            "reason": row["reason"], "referrer_bonus_minor": row["referrer_bonus_minor"],
            "referred_bonus_minor": row["referred_bonus_minor"], "created_at": row["created_at"].isoformat(),
            "rewarded_at": row["rewarded_at"].isoformat() if row["rewarded_at"] else None}


def check_code(code: str) -> str:
    code = code.strip().upper()
    if not code or len(code) > 20 or not code.isalnum():
        raise Invalid(_("not a referral code"), field="code")
    return code
