"""The money maths of lending: schedules, daily accrual, the Russian caps and the full cost of credit (PSK).

Pure functions on integer minor units and ``Decimal`` rates; no float anywhere, no database.
Rates are fractions (``Decimal("0.008")`` is 0.8 % per day). A payday product is quoted per
day, so its daily rate is kept as it is and never round-tripped through an annual rate
(the FINERACT-3201 trap: ×365 then ÷366 in leap years).

Rounding is half-even to the minor unit unless a rule says otherwise, and every schedule puts
the residue in its last period, so the principal parts always sum to the principal exactly.
Accrual is cumulative (Fineract's ``getInterestAccruedTillDate``, golden case G8): each day
posts ``round(exact total so far) − posted so far``, so rounding never drifts.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Literal

ScheduleKind = Literal["single", "annuity", "equal_principal", "flat"]
ZERO = Decimal(0)


def round_minor(value: Decimal, rounding: str = ROUND_HALF_EVEN) -> int:
    """An exact Decimal amount of minor units, rounded to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=rounding))


def round_to_multiple(minor: int | Decimal, multiple: int) -> int:
    """Round to the nearest multiple of ``multiple`` minor units (Fineract's ``installmentAmountInMultiplesOf``)."""
    if multiple <= 1:
        return round_minor(Decimal(minor))
    return round_minor(Decimal(minor) / multiple) * multiple


# -- schedules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    number: int
    due_on: dt.date | None
    principal: int
    interest: int
    #: Principal still owed after this instalment is paid.
    balance: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    principal: int
    instalments: tuple[Instalment, ...]

    @property
    def interest(self) -> int:
        return sum(i.interest for i in self.instalments)

    @property
    def total(self) -> int:
        return self.principal + self.interest

    @property
    def payments(self) -> list[int]:
        return [i.total for i in self.instalments]


def _dates(start: dt.date | None, periods: int, period_days: int) -> list[dt.date | None]:
    if start is None:
        return [None] * periods
    return [start + dt.timedelta(days=period_days * (k + 1)) for k in range(periods)]


def single_payment(principal: int, daily_rate: Decimal, term_days: int, start: dt.date | None = None,
                   cap: int | None = None) -> Schedule:
    """A payday loan: principal plus ``term_days`` of simple daily interest, all due at the end.

    ``cap`` (minor units) limits the interest, e.g. the 130 % total-cost cap.
    """
    _check(principal, term_days)
    interest = round_minor(Decimal(principal) * daily_rate * term_days)
    if cap is not None:
        interest = min(interest, cap)
    due = start + dt.timedelta(days=term_days) if start else None
    return Schedule(principal, (Instalment(1, due, principal, interest, 0),))


def annuity(principal: int, period_rate: Decimal, periods: int, *, multiple: int = 1,
            start: dt.date | None = None, period_days: int = 30) -> Schedule:
    """Equal instalments on a declining balance (golden G2).

    The instalment ``P·r / (1 − (1+r)^−n)`` is rounded to ``multiple`` minor units; each period's
    interest is the balance × rate rounded half-even; the last period takes the residue.
    """
    _check(principal, periods)
    with localcontext() as ctx:
        ctx.prec = 40
        if period_rate == 0:
            payment_exact = Decimal(principal) / periods
        else:
            payment_exact = Decimal(principal) * period_rate / (1 - (1 + period_rate) ** -periods)
    payment = round_to_multiple(payment_exact, multiple)
    rows, balance = [], principal
    for number, due in enumerate(_dates(start, periods, period_days), start=1):
        interest = round_minor(Decimal(balance) * period_rate)
        part = balance if number == periods else min(balance, max(payment - interest, 0))
        balance -= part
        rows.append(Instalment(number, due, part, interest, balance))
    return Schedule(principal, tuple(rows))


def equal_principal(principal: int, period_rate: Decimal, periods: int, *, start: dt.date | None = None,
                    period_days: int = 30) -> Schedule:
    """The same principal every period, interest on the declining balance (golden G4)."""
    _check(principal, periods)
    part = round_minor(Decimal(principal) / periods)
    rows, balance = [], principal
    for number, due in enumerate(_dates(start, periods, period_days), start=1):
        interest = round_minor(Decimal(balance) * period_rate)
        paid = balance if number == periods else min(part, balance)
        balance -= paid
        rows.append(Instalment(number, due, paid, interest, balance))
    return Schedule(principal, tuple(rows))


def flat(principal: int, period_rate: Decimal, periods: int, *, multiple: int = 1, start: dt.date | None = None,
         period_days: int = 30) -> Schedule:
    """Flat interest on the original principal, equal instalments rounded to ``multiple`` (golden G1)."""
    _check(principal, periods)
    interest = round_minor(Decimal(principal) * period_rate)
    payment = round_to_multiple(Decimal(principal + interest * periods) / periods, multiple)
    part = max(payment - interest, 0)
    rows, balance = [], principal
    for number, due in enumerate(_dates(start, periods, period_days), start=1):
        paid = balance if number == periods else min(part, balance)
        balance -= paid
        rows.append(Instalment(number, due, paid, interest, balance))
    return Schedule(principal, tuple(rows))


def _check(principal: int, count: int) -> None:
    if not isinstance(principal, int) or principal <= 0:
        raise ValueError("the principal must be a positive whole number of minor units")
    if count <= 0:
        raise ValueError("the term must be at least one day or period")


# -- daily accrual ----------------------------------------------------------------------------------


def accrued_to_date(period_interest: int, elapsed_days: int, period_days: int) -> int:
    """Interest accrued after ``elapsed_days`` of a period: ``round(I × d / D)``, all of it once the period ends."""
    if elapsed_days >= period_days:
        return period_interest
    return round_minor(Decimal(period_interest) * elapsed_days / period_days)


def daily_postings(period_interest: int, period_days: int) -> list[int]:
    """What each day of a period posts under cumulative rounding; the postings sum to the period's interest."""
    return [accrued_to_date(period_interest, d, period_days) - accrued_to_date(period_interest, d - 1, period_days)
            for d in range(1, period_days + 1)]


@dataclass(frozen=True)
class Accrual:
    """Interest and penalty of one day, and the running exact totals to keep for the next."""

    interest: int
    penalty: int
    interest_exact: Decimal
    penalty_exact: Decimal


def accrue_day(*, principal_outstanding: int, overdue_principal: int, daily_rate: Decimal,
               penalty_daily_rate: Decimal, interest_exact: Decimal, interest_posted: int,
               penalty_exact: Decimal, penalty_posted: int, headroom: int) -> Accrual:
    """One day of interest (on the outstanding principal) and penalty (on the overdue principal).

    The exact running totals are kept as Decimals and each day posts ``round(total) − posted``.
    ``headroom`` is what the total-cost cap still allows (minor units): interest takes it first,
    the penalty gets the rest, and nothing accrues once it is used up.
    """
    interest_exact += Decimal(principal_outstanding) * daily_rate
    penalty_exact += Decimal(overdue_principal) * penalty_daily_rate
    wanted_interest = max(round_minor(interest_exact) - interest_posted, 0)
    wanted_penalty = max(round_minor(penalty_exact) - penalty_posted, 0)
    headroom = max(headroom, 0)
    interest = min(wanted_interest, headroom)
    penalty = min(wanted_penalty, headroom - interest)
    # What the cap cut off is never owed: the exact totals stop where the postings stopped.
    if interest < wanted_interest:
        interest_exact = Decimal(interest_posted + interest)
    if penalty < wanted_penalty:
        penalty_exact = Decimal(penalty_posted + penalty)
    return Accrual(interest, penalty, interest_exact, penalty_exact)


# -- caps -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapRule:
    """The consumer-credit limits in force for contracts signed from ``effective_from`` (353-FZ, 613-FZ, 545-FZ)."""

    effective_from: dt.date
    #: Highest interest rate per day (613-FZ: 0.8 %).
    daily_rate_max: Decimal
    #: Interest + penalties + fees may not exceed this multiple of the principal (613-FZ: 1.3; 545-FZ: 1.0).
    total_cost_multiple: Decimal
    #: Highest full cost of credit, % per year (613-FZ: 292).
    psk_max: Decimal
    #: Highest penalty, per year, on overdue debt while interest still accrues (353-FZ art. 5 part 21: 20 %).
    penalty_annual_max: Decimal = Decimal("0.20")
    name: str = ""

    def cost_cap(self, principal: int) -> int:
        """The most interest + penalties + fees a loan of ``principal`` may ever charge (rounded down)."""
        return round_minor(Decimal(principal) * self.total_cost_multiple, ROUND_FLOOR)


def rule_for(rules: Sequence[CapRule], contract_date: dt.date) -> CapRule | None:
    """The rule in force on ``contract_date``: the latest one that had taken effect."""
    current = [r for r in rules if r.effective_from <= contract_date]
    return max(current, key=lambda r: r.effective_from) if current else None


# -- full cost of credit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CashFlow:
    """A payment ``days`` after the loan is given: negative from the lender (the loan), positive to it."""

    days: int
    amount: int


@dataclass
class Psk:
    percent: Decimal
    #: The rate per base period ``i`` and the base period in days.
    rate: Decimal
    base_days: int
    flows: list[CashFlow] = field(default_factory=list)


def base_period_days(flows: Sequence[CashFlow]) -> int:
    """The most frequent gap between payment days (353-FZ art. 6: the base period); ties take the shortest."""
    days = sorted({f.days for f in flows})
    gaps = [b - a for a, b in itertools.pairwise(days) if b > a]
    if not gaps:
        return max(days[-1], 1)
    return min(set(gaps), key=lambda g: (-gaps.count(g), g))


def psk(flows: Sequence[CashFlow], days_in_year: int = 365) -> Psk:
    """The full cost of credit, % per year, to three decimals (353-FZ art. 6 part 2).

    ``PSK = i × ЧБП × 100`` where ``ЧБП = days_in_year / base period`` and ``i`` solves
    ``Σ ДП_k / ((1 + e_k·i)(1 + i)^q_k) = 0``; ``q_k`` whole base periods and ``e_k`` the
    fraction of one between the start and payment k. ``i`` is found by bisection in Decimal.
    """
    if not flows or not any(f.amount < 0 for f in flows) or not any(f.amount > 0 for f in flows):
        raise ValueError("the cash flows need money both lent and repaid")
    base = base_period_days(flows)
    with localcontext() as ctx:
        ctx.prec = 50

        def npv(i: Decimal) -> Decimal:
            total = ZERO
            for f in flows:
                q, rest = divmod(f.days, base)
                e = Decimal(rest) / base
                total += Decimal(f.amount) / ((1 + e * i) * (1 + i) ** q)
            return total

        low, high = ZERO, Decimal(1)
        while npv(high) > 0:  # repayments still worth more than the loan: the rate is higher
            high *= 2
            if high > 10**6:
                raise ValueError("the cost of credit is beyond any sensible rate")
        if npv(low) < 0:
            raise ValueError("the repayments are less than the loan")
        for _ in range(200):
            middle = (low + high) / 2
            if npv(middle) > 0:
                low = middle
            else:
                high = middle
        rate = (low + high) / 2
        percent = (rate * Decimal(days_in_year) / base * 100).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    return Psk(percent, rate, base, list(flows))


def schedule_flows(schedule: Schedule, start: dt.date, fees: int = 0) -> list[CashFlow]:
    """The cash flows of a schedule with dates: the loan (less upfront fees) out, the instalments in."""
    flows = [CashFlow(0, -(schedule.principal - fees))]
    for instalment in schedule.instalments:
        assert instalment.due_on is not None, "a PSK needs the schedule's dates"
        flows.append(CashFlow((instalment.due_on - start).days, instalment.total))
    return flows


# -- repayment allocation --------------------------------------------------------------------------

Component = Literal["penalty", "interest", "principal"]
#: What the seed asked for, Fineract's default family: penalties first.
PENALTY_FIRST: tuple[Component, ...] = ("penalty", "interest", "principal")
#: 353-FZ art. 5 part 20: interest, then principal, the penalty last.
RU_353FZ: tuple[Component, ...] = ("interest", "principal", "penalty")


def allocate_payment(amount: int, due: dict[str, int], order: Sequence[str]) -> dict[str, int]:
    """Split ``amount`` over the components owed, in ``order``; raises if it is more than is owed."""
    if amount <= 0:
        raise ValueError("a payment must be positive")
    if amount > sum(due.get(c, 0) for c in order):
        raise ValueError("the payment is more than is owed")
    parts, left = {}, amount
    for component in order:
        take = min(left, max(due.get(component, 0), 0))
        parts[component] = take
        left -= take
    return parts
