"""The cooperative's queue, as pure and exact maths (integers and ``Fraction``, never float).

No public rules of the KOPIKUPI program exist (``shared/reference/lending.md`` §4.1), so this is
the money × time design proposed in §4.3, anchored on the Bauspar rating number:

* **score**: ``Σ amount × (valuation date − value date) / target`` over the member's contributions
  (withdrawals count negative), i.e. ruble-days per unit of target; money saved earlier and more of
  it relative to what one wants to buy ranks higher;
* **eligibility**: own balance ≥ ``min_share`` × target, a member for ≥ ``min_membership_days``,
  no arrears;
* **pool**: ``cash − reserve_ratio × liabilities to members not yet allotted − committed``;
* **allotment**: eligible members by (score desc, joined on asc, member id asc); each allotted
  member takes their full target from the pool (their own balance is already in it); a strict
  queue stops at the first member the pool cannot fund, a lenient one skips to the next.

Allotments are paid only from money already in the pool, never from future inflows (the §4.2
pyramid warning).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class Movement:
    """Money into (positive) or out of (negative) a member's share, on its value date."""

    value_date: dt.date
    amount_minor: int


@dataclass(frozen=True)
class Rules:
    min_share: Fraction = Fraction(1, 2)
    min_membership_days: int = 90
    reserve_ratio: Fraction = Fraction(1, 10)
    strict_queue: bool = True


@dataclass(frozen=True)
class Candidate:
    """A member not yet allotted, as the valuation sees them."""

    member_id: Any  # anything orderable and stable (a UUID in the service)
    joined_on: dt.date
    target_minor: int
    movements: tuple[Movement, ...] = ()
    in_arrears: bool = False


@dataclass(frozen=True)
class Place:
    """One line of the published queue."""

    rank: int
    member_id: Any
    score: Fraction
    balance_minor: int
    eligible: bool
    allotted: bool


@dataclass(frozen=True)
class Allotment:
    available_minor: int
    allotted_minor: int
    queue: tuple[Place, ...]

    @property
    def allotted(self) -> list[Any]:
        return [p.member_id for p in self.queue if p.allotted]


def balance(movements: Iterable[Movement], on: dt.date) -> int:
    """The member's own balance at the end of ``on`` (movements dated later do not count)."""
    return sum(m.amount_minor for m in movements if m.value_date <= on)


def score(movements: Iterable[Movement], target_minor: int, on: dt.date) -> Fraction:
    """Ruble-days per unit of target at ``on``: ``Σ amount × days held / target`` (amounts in minor
    units over a target in minor units, so the unit cancels: a score of 30 is "a whole target for 30 days")."""
    if target_minor <= 0:
        raise ValueError("the target must be positive")
    money_days = sum(m.amount_minor * (on - m.value_date).days for m in movements if m.value_date <= on)
    return Fraction(money_days, target_minor)


def is_eligible(candidate: Candidate, rules: Rules, on: dt.date) -> bool:
    own = balance(candidate.movements, on)
    return (not candidate.in_arrears
            and own >= rules.min_share * candidate.target_minor
            and (on - candidate.joined_on).days >= rules.min_membership_days)


def available(cash_minor: int, liabilities_minor: int, committed_minor: int, reserve_ratio: Fraction) -> int:
    """What the pool may pay out now; the reserve is rounded up, so rounding never lends a kopeck too many."""
    reserve = math.ceil(reserve_ratio * liabilities_minor)
    return max(0, cash_minor - reserve - committed_minor)


def order_key(candidate: Candidate, candidate_score: Fraction) -> tuple[Fraction, dt.date, str]:
    """Higher score first; then who joined first; then the member id, so the order never depends on input order."""
    return (-candidate_score, candidate.joined_on, str(candidate.member_id))


def allot(candidates: Sequence[Candidate], rules: Rules, on: dt.date, *, cash_minor: int,
          committed_minor: int = 0) -> Allotment:
    """Rank everyone not yet allotted and allot from the pool at the valuation date ``on``.

    The reserve is taken on every candidate's balance (the liabilities to members not yet allotted)
    and stays as computed before the walk: allotting someone never raises what the others can get
    in the same valuation (conservative; the next valuation sees the smaller liabilities).
    """
    scored = [(c, score(c.movements, c.target_minor, on)) for c in candidates]
    scored.sort(key=lambda pair: order_key(*pair))
    liabilities = sum(max(0, balance(c.movements, on)) for c in candidates)
    pool = available(cash_minor, liabilities, committed_minor, rules.reserve_ratio)
    left, stopped, places = pool, False, []
    for rank, (candidate, candidate_score) in enumerate(scored, start=1):
        eligible = is_eligible(candidate, rules, on)
        allotted = False
        if eligible and not stopped:
            if left >= candidate.target_minor:
                left -= candidate.target_minor
                allotted = True
            elif rules.strict_queue:
                stopped = True  # never jump the queue to a cheaper target
        places.append(Place(rank, candidate.member_id, candidate_score, balance(candidate.movements, on),
                            eligible, allotted))
    return Allotment(pool, pool - left, tuple(places))


def obligation(target_minor: int, own_balance_minor: int) -> int:
    """What an allotted member still owes the pool: the target less their own share."""
    return max(0, target_minor - own_balance_minor)


def instalments(total_minor: int, count: int, first_due: dt.date, every_days: int) -> list[tuple[int, dt.date, int]]:
    """``count`` equal instalments (number, due date, amount); the first ones carry the remainder, so they sum exactly."""
    if count <= 0 or every_days <= 0:
        raise ValueError("count and every_days must be positive")
    base, extra = divmod(total_minor, count)
    return [(n, first_due + dt.timedelta(days=every_days * (n - 1)), base + (1 if n <= extra else 0))
            for n in range(1, count + 1) if base + (1 if n <= extra else 0) > 0]


def months_to_eligibility(target_minor: int, monthly_minor: int, rules: Rules, *, balance_minor: int = 0,
                          days_member: int = 0, month_days: int = 30) -> int:
    """How many months of saving ``monthly_minor`` until the member may be allotted (the seed's "how many
    months at a certain level of investment"). Eligibility only: when the allotment comes depends on the
    pool and the others in the queue, which no one can promise. Months are ``month_days`` long."""
    if monthly_minor <= 0 or target_minor <= 0:
        raise ValueError("the target and the monthly amount must be positive")
    share_needed = math.ceil(rules.min_share * target_minor) - balance_minor
    for_share = max(0, -(-share_needed // monthly_minor))
    for_days = max(0, -(-(rules.min_membership_days - days_member) // month_days))
    return max(for_share, for_days)
