"""Applications, signing, loans, repayments and extensions: the lending service.

The life of a loan::

    apply ──(rules)──▶ approved ──code──▶ signed: loan created, money fund → wallet
          └──▶ rejected, or submitted (waits for a person: approve / reject)

    loan: active ──due date passes unpaid──▶ overdue ──paid in full──▶ repaid
                 ◀──────── extension (interest and penalty paid, new due date) ──┘

Every money step is one database transaction holding the loan's row lock, with the ledger
transfers inside it, so the loan's counters and the ledger never disagree. Transfer ids come
from the loan and the caller's idempotency key: a retried request moves no money twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.access.confirmations import Confirmations
from core.money import format_money
from core.projects.errors import Conflict, Invalid, NotFound
from plugins.lending import decisions, notices
from plugins.lending import schedule as maths
from plugins.lending.accounts import LendingAccounts, tid
from plugins.lending.products import Products, Quote, text_field

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.lending.settings import LendingSettings

SIGN_PURPOSE = "lending.sign"
LOAN_NAMESPACE = uuid.UUID("6f1d54a2-9c0e-4d6b-8b3f-1a2f0c9e7d51")
WALLET_REFUSALS = {"exceeds_credits": "there is not enough money in your wallet"}
FUND_REFUSALS = {"exceeds_credits": "the lending fund has not enough money for this loan now"}


@dataclass(frozen=True)
class Balance:
    """What a borrower owes now, by component."""

    principal: int
    interest: int
    penalty: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.penalty

    def as_dict(self) -> dict[str, int]:
        return {"principal": self.principal, "interest": self.interest, "penalty": self.penalty}


def balance_of(loan: Any) -> Balance:
    return Balance(loan["principal_minor"] - loan["principal_paid_minor"],
                   loan["interest_accrued_minor"] - loan["interest_paid_minor"],
                   loan["penalty_accrued_minor"] - loan["penalty_paid_minor"])


def loan_id_of(application_id: uuid.UUID) -> uuid.UUID:
    """One application gives at most one loan: its id follows from the application's."""
    return uuid.uuid5(LOAN_NAMESPACE, str(application_id))


def sign_payload(application: Any) -> dict[str, Any]:
    """Exactly what the code signs: the application and its money terms."""
    return {"application": str(application["id"]), "amount": application["amount_minor"],
            "currency": application["currency"], "term_days": application["term_days"],
            "psk": str(application["psk"]), "interest": application["interest_minor"]}


def loan_json(loan: Any) -> dict[str, Any]:
    owed = balance_of(loan)
    return {
        "id": str(loan["id"]), "application_id": str(loan["application_id"]), "status": loan["status"],
        "currency": loan["currency"], "principal_minor": loan["principal_minor"], "psk_percent": str(loan["psk"]),
        "daily_rate": str(loan["daily_rate"]), "disbursed_on": loan["disbursed_on"].isoformat(),
        "due_on": loan["due_on"].isoformat(), "overdue_days": loan["overdue_days"],
        "extensions": loan["extensions"], "cost_cap_minor": loan["cost_cap_minor"],
        "interest_accrued_minor": loan["interest_accrued_minor"], "penalty_accrued_minor": loan["penalty_accrued_minor"],
        "accrued_through": loan["accrued_through"].isoformat() if loan["accrued_through"] else None,
        "balance_due": {**owed.as_dict(), "total": owed.total},
        "repaid_on": loan["repaid_on"].isoformat() if loan["repaid_on"] else None,
    }


def application_json(row: Any) -> dict[str, Any]:
    return {"id": str(row["id"]), "user_id": str(row["user_id"]), "status": row["status"],
            "amount_minor": row["amount_minor"], "term_days": row["term_days"], "currency": row["currency"],
            "psk_percent": str(row["psk"]), "interest_minor": row["interest_minor"],
            "decision_reason": row["decision_reason"], "created_at": row["created_at"].isoformat(),
            "loan_id": str(loan_id_of(row["id"])) if row["status"] == "signed" else None}


class LendingService:
    def __init__(self, platform: Platform, settings: LendingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = LendingAccounts(platform, settings)
        self.products = Products(platform, settings)

    @property
    def db(self):
        return self.platform.db

    async def today(self) -> dt.date:
        return await self.products.business_date()

    # -- applications -------------------------------------------------------------------------------

    async def calculate(self, amount_minor: int, term_days: int, product_code: str | None = None,
                        user_id: uuid.UUID | None = None) -> Quote:
        product = await self.products.for_applicant(user_id, product_code)
        return await self.products.quote(product, amount_minor, term_days)

    async def apply(self, user_id: uuid.UUID, amount_minor: int, term_days: int, *, product_code: str | None = None,
                    idempotency_key: str | None = None, names: dict[str, Any] | None = None) -> Any:
        """File an application and decide it by the rules; returns the application row."""
        if idempotency_key is not None:
            _check_key(idempotency_key)
            existing = await self.db.fetchrow(
                "SELECT * FROM lending_applications WHERE user_id = $1 AND idempotency_key = $2", user_id,
                idempotency_key)
            if existing is not None:
                return existing
        quote = await self.calculate(amount_minor, term_days, product_code, user_id)
        application = await self.db.fetchrow(
            """INSERT INTO lending_applications (id, user_id, product_id, amount_minor, term_days, currency, psk,
                                                 interest_minor, idempotency_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING *""",
            uuid.uuid4(), user_id, quote.product.id, amount_minor, term_days, quote.product.currency, quote.psk,
            quote.schedule.interest, idempotency_key)
        if application is None:  # the same key raced in
            return await self.db.fetchrow(
                "SELECT * FROM lending_applications WHERE user_id = $1 AND idempotency_key = $2", user_id,
                idempotency_key)
        # Scoring (if any) is asked outside a transaction; the decision is written after.
        who = await decisions.applicant(self.platform, application, names or {})
        decision = await decisions.decide(self.platform, self.settings, who)
        return await self._set_decision(application["id"], decision.status, decision.reason, "auto")

    async def _set_decision(self, application_id: uuid.UUID, status: str, reason: str, by: str) -> Any:
        row = await self.db.fetchrow(
            """UPDATE lending_applications SET status = $2, decision_reason = $3, decided_by = $4, decided_at = now()
               WHERE id = $1 AND status = 'submitted' RETURNING *""", application_id, status, reason, by)
        if row is None:
            current = await self.application(application_id)
            raise Conflict(f"the application is {current['status']}, not waiting for a decision")
        return row

    async def decide(self, application_id: uuid.UUID, *, approve: bool, reason: str, by: str) -> Any:
        """A person's decision on an application in the queue."""
        return await self._set_decision(application_id, "approved" if approve else "rejected",
                                        reason or ("approved by hand" if approve else "rejected by hand"), by)

    async def cancel(self, application_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """The applicant withdraws an application that is not signed yet."""
        await self.application(application_id, user_id)
        row = await self.db.fetchrow(
            """UPDATE lending_applications SET status = 'cancelled', decided_at = coalesce(decided_at, now())
               WHERE id = $1 AND status IN ('submitted', 'approved') RETURNING *""", application_id)
        if row is None:
            current = await self.application(application_id)
            raise Conflict(f"the application is {current['status']}; it can no longer be cancelled")
        return row

    async def application(self, application_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Any:
        row = await self.db.fetchrow("SELECT * FROM lending_applications WHERE id = $1", application_id)
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise NotFound(f"no application {application_id}")
        return row

    async def applications(self, *, user_id: uuid.UUID | None = None, status: str | None = None,
                           limit: int = 200) -> list[Any]:
        return await self.db.fetch(
            """SELECT * FROM lending_applications WHERE ($1::uuid IS NULL OR user_id = $1)
               AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC LIMIT $3""", user_id, status, limit)

    # -- signing and disbursement -------------------------------------------------------------------

    async def request_signature(self, application_id: uuid.UUID, user_id: uuid.UUID) -> Any:
        """Send the one-time code that signs the agreement; returns the challenge."""
        application = await self.application(application_id, user_id)
        if application["status"] != "approved":
            raise Conflict(f"the application is {application['status']}; only an approved one can be signed")
        from core.web.i18n import gettext as _

        summary = _("Loan agreement: %(amount)s for %(days)s days, full cost %(psk)s %% a year",
                    amount=format_money(application["amount_minor"], application["currency"]),
                    days=application["term_days"], psk=application["psk"])
        challenge = await self.platform.service(Confirmations).issue(
            purpose=SIGN_PURPOSE, payload=sign_payload(application), user_id=user_id, summary=summary)
        await self.db.execute("UPDATE lending_applications SET challenge_id = $2 WHERE id = $1", application_id,
                              challenge.id)
        return challenge

    async def sign(self, application_id: uuid.UUID, user_id: uuid.UUID, code: str) -> Any:
        """Check the code, then create the loan and pay it to the wallet; returns the loan row.

        Signing again after success returns the same loan (its id follows from the application).
        """
        application = await self.application(application_id, user_id)
        if application["status"] == "signed":
            return await self.loan(loan_id_of(application_id))
        if application["status"] != "approved":
            raise Conflict(f"the application is {application['status']}; only an approved one can be signed")
        if application["challenge_id"] is None:
            raise Conflict("ask for a code first")
        await self.platform.service(Confirmations).verify(
            application["challenge_id"], str(code), purpose=SIGN_PURPOSE, payload=sign_payload(application),
            user_id=user_id)
        return await self._disburse(application_id)

    async def _disburse(self, application_id: uuid.UUID) -> Any:
        loan_id = loan_id_of(application_id)
        async with self.db.transaction() as conn:
            application = await conn.fetchrow(
                "SELECT * FROM lending_applications WHERE id = $1 FOR UPDATE", application_id)
            if application["status"] == "signed":
                return await conn.fetchrow("SELECT * FROM lending_loans WHERE id = $1", loan_id)
            # One borrower's signatures go one at a time, and the open-loans rule is checked again:
            # two applications approved side by side must not both become loans.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('lending.borrower:' || $1::text))",
                               str(application["user_id"]))
            who = await decisions.applicant(self.platform, application, {})
            for rule in self.settings.decision_rules:
                if rule.kind == "max_open_loans" and await decisions.check(self.platform, rule, who,
                                                                            self.settings.currency):
                    raise Conflict(f"{who.open_loans} loan(s) not repaid yet: repay before signing another")
            product = await self.products.get(application["product_id"])
            today = await self.today()
            quote = await self.products.quote(product, application["amount_minor"], application["term_days"], today)
            due_on = quote.schedule.instalments[-1].due_on
            loan = await conn.fetchrow(
                """INSERT INTO lending_loans (id, application_id, user_id, product_id, currency, principal_minor,
                       schedule_kind, term_days, daily_rate, penalty_annual_rate, extension_days, psk, cost_cap_minor,
                       interest_account_id, penalty_account_id, disbursed_on, due_on)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING *""",
                loan_id, application_id, application["user_id"], product.id, product.currency,
                application["amount_minor"], product.schedule_kind, application["term_days"], product.daily_rate,
                product.penalty_annual_rate, product.extension_days, quote.psk, quote.cost_cap_minor,
                await self.accounts.due(loan_id, "interest"), await self.accounts.due(loan_id, "penalty"), today, due_on)
            await conn.executemany(
                "INSERT INTO lending_instalments (loan_id, number, due_on, principal_minor, interest_minor)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(loan_id, i.number, i.due_on, i.principal, i.interest) for i in quote.schedule.instalments])
            await conn.execute("UPDATE lending_applications SET status = 'signed' WHERE id = $1", application_id)
            await self.accounts.submit([self.accounts.transfer(
                tid("disburse", loan_id), await self.accounts.fund(), await self.accounts.wallet(application["user_id"]),
                application["amount_minor"], "lending.disbursement", value_date=today, loan=loan_id)],
                refusal=FUND_REFUSALS)
            currency = product.currency
            await notices.tell(self.platform, application["user_id"], "disbursed",
                               amount=format_money(application["amount_minor"], currency),
                               total=format_money(quote.schedule.total, currency), due_on=due_on.isoformat())
        return loan

    # -- loans ----------------------------------------------------------------------------------------

    async def loan(self, loan_id: uuid.UUID, user_id: uuid.UUID | None = None) -> Any:
        row = await self.db.fetchrow("SELECT * FROM lending_loans WHERE id = $1", loan_id)
        if row is None or (user_id is not None and row["user_id"] != user_id):
            raise NotFound(f"no loan {loan_id}")
        return row

    async def loans(self, *, user_id: uuid.UUID | None = None, status: str | None = None,
                    limit: int = 200) -> list[Any]:
        return await self.db.fetch(
            """SELECT * FROM lending_loans WHERE ($1::uuid IS NULL OR user_id = $1)
               AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC LIMIT $3""", user_id, status, limit)

    async def instalments(self, loan_id: uuid.UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM lending_instalments WHERE loan_id = $1 ORDER BY number", loan_id)

    async def payments(self, loan_id: uuid.UUID) -> list[Any]:
        return await self.db.fetch("SELECT * FROM lending_payments WHERE loan_id = $1 ORDER BY created_at", loan_id)

    async def _locked(self, conn: Any, loan_id: uuid.UUID, user_id: uuid.UUID | None) -> Any:
        loan = await conn.fetchrow("SELECT * FROM lending_loans WHERE id = $1 FOR UPDATE", loan_id)
        if loan is None or (user_id is not None and loan["user_id"] != user_id):
            raise NotFound(f"no loan {loan_id}")
        return loan

    async def _existing_payment(self, loan_id: uuid.UUID, key: str) -> Any:
        return await self.db.fetchrow(
            "SELECT * FROM lending_payments WHERE loan_id = $1 AND idempotency_key = $2", loan_id, key)

    async def repay(self, loan_id: uuid.UUID, user_id: uuid.UUID, amount_minor: int | None, *,
                    idempotency_key: str) -> Any:
        """Pay from the wallet: ``None`` pays everything owed. Returns the payment row."""
        _check_key(idempotency_key)
        async with self.db.transaction() as conn:
            loan = await self._locked(conn, loan_id, user_id)
            existing = await self._existing_payment(loan_id, idempotency_key)
            if existing is not None:
                return existing
            if loan["status"] == "repaid":
                raise Conflict("the loan is repaid already")
            owed = balance_of(loan)
            amount = owed.total if amount_minor is None else amount_minor
            if amount > owed.total:
                raise Invalid(f"more than the {format_money(owed.total, loan['currency'])} owed", field="amount")
            parts = maths.allocate_payment(amount, owed.as_dict(), self.settings.allocation_order)
            return await self._pay(conn, loan, "repayment", parts, idempotency_key)

    async def extend(self, loan_id: uuid.UUID, user_id: uuid.UUID, *, idempotency_key: str) -> Any:
        """Prolong a single-payment loan: pay the interest and penalty owed, the due date moves on."""
        _check_key(idempotency_key)
        async with self.db.transaction() as conn:
            loan = await self._locked(conn, loan_id, user_id)
            existing = await self._existing_payment(loan_id, idempotency_key)
            if existing is not None:
                return existing
            if loan["status"] == "repaid":
                raise Conflict("the loan is repaid already")
            if loan["schedule_kind"] != "single" or loan["extension_days"] <= 0:
                raise Conflict("this loan's product does not allow extensions")
            owed = balance_of(loan)
            if owed.interest + owed.penalty == 0:
                raise Conflict("no interest is owed yet; extend after a day has passed")
            parts = {"penalty": owed.penalty, "interest": owed.interest, "principal": 0}
            return await self._pay(conn, loan, "extension", parts, idempotency_key)

    async def _pay(self, conn: Any, loan: Any, kind: str, parts: dict[str, int], key: str) -> Any:
        today = await self.today()
        loan_id, user_id = loan["id"], loan["user_id"]
        payment_id = uuid.uuid5(loan_id, key)
        wallet = await self.accounts.wallet(user_id)
        transfers = []
        for component in ("penalty", "interest"):
            if parts.get(component):
                transfers.append(self.accounts.transfer(
                    tid("pay", payment_id, component), wallet, loan[f"{component}_account_id"],
                    parts[component], f"lending.{kind}.{component}", value_date=today, loan=loan_id))
        if parts.get("principal"):
            transfers.append(self.accounts.transfer(
                tid("pay", payment_id, "principal"), wallet, await self.accounts.fund(), parts["principal"],
                f"lending.{kind}.principal", value_date=today, loan=loan_id))
        new_due = None
        if kind == "extension":
            new_due = max(loan["due_on"], today) + dt.timedelta(days=loan["extension_days"])
        payment = await conn.fetchrow(
            """INSERT INTO lending_payments (id, loan_id, kind, amount_minor, penalty_minor, interest_minor,
                                             principal_minor, business_date, new_due_on, idempotency_key)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
            payment_id, loan_id, kind, sum(parts.values()), parts.get("penalty", 0), parts.get("interest", 0),
            parts.get("principal", 0), today, new_due, key)
        updated = await conn.fetchrow(
            """UPDATE lending_loans SET principal_paid_minor = principal_paid_minor + $2,
                   interest_paid_minor = interest_paid_minor + $3, penalty_paid_minor = penalty_paid_minor + $4,
                   due_on = coalesce($5, due_on), extensions = extensions + ($5 IS NOT NULL)::int
               WHERE id = $1 RETURNING *""",
            loan_id, parts.get("principal", 0), parts.get("interest", 0), parts.get("penalty", 0), new_due)
        status, repaid_on, overdue_days = updated["status"], None, updated["overdue_days"]
        if balance_of(updated).total == 0 and updated["principal_paid_minor"] == updated["principal_minor"]:
            status, repaid_on, overdue_days = "repaid", today, 0
        elif new_due is not None:
            status, overdue_days = "active", 0
        await conn.execute("UPDATE lending_loans SET status = $2, repaid_on = $3, overdue_days = $4 WHERE id = $1",
                           loan_id, status, repaid_on, overdue_days)
        await self.accounts.submit(transfers, refusal=WALLET_REFUSALS)
        currency = loan["currency"]
        if status == "repaid":
            await notices.tell(self.platform, user_id, "repaid", amount=format_money(loan["principal_minor"], currency))
        elif new_due is not None:
            await notices.tell(self.platform, user_id, "extended", due_on=new_due.isoformat(),
                               paid=format_money(payment["amount_minor"], currency))
        return payment

    # -- close of day ----------------------------------------------------------------------------------

    async def accrue(self, business_date: dt.date, *, chunk: int = 200) -> int:
        """Accrue every open loan's interest and penalty up to and including ``business_date``.

        Each loan is brought forward from the day after its ``accrued_through`` (catching up
        missed dates); a loan already accrued for the date is left alone, so running this twice
        changes nothing. Loans go in chunks, one transaction each: their rows locked in id order,
        one update, one ledger submit (the income accounts are locked once per chunk, not once
        per loan). Returns how many loans moved.
        """
        ids = [r["id"] for r in await self.db.fetch(
            """SELECT id FROM lending_loans WHERE status <> 'repaid' AND disbursed_on <= $1
               AND (accrued_through IS NULL OR accrued_through < $1) ORDER BY id""", business_date)]
        income = {c: await self.accounts.income(c) for c in ("interest", "penalty")}
        moved = 0
        for start in range(0, len(ids), chunk):
            moved += await self._accrue_chunk(ids[start:start + chunk], business_date, income)
        return moved

    async def _accrue_chunk(self, ids: list[uuid.UUID], business_date: dt.date, income: dict[str, int]) -> int:
        async with self.db.transaction() as conn:
            loans = await conn.fetch(
                """SELECT * FROM lending_loans WHERE id = ANY($1::uuid[]) AND status <> 'repaid'
                   AND (accrued_through IS NULL OR accrued_through < $2) ORDER BY id FOR UPDATE""", ids, business_date)
            instalments: dict[uuid.UUID, list[Any]] = {}
            for row in await conn.fetch(
                    """SELECT loan_id, due_on, principal_minor FROM lending_instalments
                       WHERE loan_id = ANY($1::uuid[]) ORDER BY loan_id, number""", [r["id"] for r in loans]):
                instalments.setdefault(row["loan_id"], []).append(row)
            updates, transfers = [], []
            for loan in loans:
                update, postings = self._accrue_loan(loan, instalments.get(loan["id"], []), business_date)
                updates.append(update)
                for day, component, amount in postings:
                    transfers.append(self.accounts.transfer(
                        tid("accrue", loan["id"], day, component), loan[f"{component}_account_id"], income[component],
                        amount, f"lending.accrual.{component}", value_date=day, loan=loan["id"]))
            await conn.executemany(
                """UPDATE lending_loans SET interest_accrued_minor = $2, penalty_accrued_minor = $3,
                       interest_exact = $4, penalty_exact = $5, accrued_through = $6, overdue_days = $7,
                       max_overdue_days = greatest(max_overdue_days, $7),
                       status = CASE WHEN $7 > 0 THEN 'overdue' ELSE 'active' END
                   WHERE id = $1""", updates)
            await self.accounts.submit(transfers)
            for loan, update in zip(loans, updates, strict=True):
                if update[-1] > 0 and loan["overdue_days"] == 0:  # it has just turned overdue
                    owed = balance_of(loan).principal + update[1] - loan["interest_paid_minor"] \
                        + update[2] - loan["penalty_paid_minor"]
                    await notices.tell(self.platform, loan["user_id"], "overdue", due_on=loan["due_on"].isoformat(),
                                       owed=format_money(owed, loan["currency"]))
        return len(loans)

    def _accrue_loan(self, loan: Any, schedule: list[Any], business_date: dt.date) -> tuple[tuple, list[tuple]]:
        """One loan brought forward to ``business_date``: its row's new values and its postings."""
        day = (loan["accrued_through"] + dt.timedelta(days=1)) if loan["accrued_through"] else loan["disbursed_on"]
        interest_exact, penalty_exact = loan["interest_exact"], loan["penalty_exact"]
        interest_total, penalty_total = loan["interest_accrued_minor"], loan["penalty_accrued_minor"]
        outstanding = loan["principal_minor"] - loan["principal_paid_minor"]
        penalty_daily = loan["penalty_annual_rate"] / self.settings.days_in_year
        overdue_days, postings = loan["overdue_days"], []
        while day <= business_date:
            overdue = _overdue_principal(loan, schedule, day, outstanding)
            result = maths.accrue_day(
                principal_outstanding=outstanding, overdue_principal=overdue, daily_rate=loan["daily_rate"],
                penalty_daily_rate=penalty_daily, interest_exact=interest_exact, interest_posted=interest_total,
                penalty_exact=penalty_exact, penalty_posted=penalty_total,
                headroom=loan["cost_cap_minor"] - interest_total - penalty_total)
            postings += [(day, c, a) for c, a in (("interest", result.interest), ("penalty", result.penalty)) if a]
            interest_total += result.interest
            penalty_total += result.penalty
            interest_exact, penalty_exact = result.interest_exact, result.penalty_exact
            overdue_days = overdue_days + 1 if overdue else 0
            day += dt.timedelta(days=1)
        return ((loan["id"], interest_total, penalty_total, interest_exact, penalty_exact, business_date, overdue_days),
                postings)


def _overdue_principal(loan: Any, schedule: list[Any], day: dt.date, outstanding: int) -> int:
    """Principal that fell due on or before ``day`` and is still unpaid at its close."""
    if loan["schedule_kind"] == "single":
        return outstanding if day >= loan["due_on"] else 0
    fallen_due = sum(i["principal_minor"] for i in schedule if i["due_on"] <= day)
    return max(fallen_due - loan["principal_paid_minor"], 0)


def _check_key(key: str) -> None:
    if text_field(key, "idempotency_key", 100) != key:
        raise Invalid("1 to 100 characters, no spaces around", field="idempotency_key")
