"""The money maths: golden cases from lending.md §6 to the kopeck, and properties that must always hold."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.lending.schedule import (
    PENALTY_FIRST,
    RU_353FZ,
    CapRule,
    CashFlow,
    accrue_day,
    allocate_payment,
    annuity,
    daily_postings,
    equal_principal,
    flat,
    psk,
    rule_for,
    schedule_flows,
    single_payment,
)

RULE_613FZ = CapRule(dt.date(2023, 7, 1), Decimal("0.008"), Decimal("1.3"), Decimal("292"))
RULE_545FZ = CapRule(dt.date(2026, 4, 1), Decimal("0.008"), Decimal("1.0"), Decimal("292"))


# -- golden cases (EUR-like, 2 decimals, instalments rounded to a multiple of 1.00) ----------------


def test_g1_flat_equal_instalments():
    schedule = flat(5000_00, Decimal("0.01"), 18, multiple=100)
    assert {i.interest for i in schedule.instalments} == {50_00}
    assert [i.principal for i in schedule.instalments] == [278_00] * 17 + [274_00]
    assert schedule.payments == [328_00] * 17 + [324_00]
    assert schedule.interest == 900_00


def test_g2_declining_balance_annuity():
    schedule = annuity(5000_00, Decimal("0.01"), 18, multiple=100)
    first, second, last = schedule.instalments[0], schedule.instalments[1], schedule.instalments[-1]
    assert (first.principal, first.interest, first.balance) == (255_00, 50_00, 4745_00)
    assert (second.principal, second.interest, second.balance) == (257_55, 47_45, 4487_45)
    assert (last.principal, last.interest, last.total) == (300_22, 3_00, 303_22)
    assert schedule.interest == 488_22


def test_g4_equal_principal():
    schedule = equal_principal(5000_00, Decimal("0.01"), 18)
    assert [i.principal for i in schedule.instalments] == [277_78] * 17 + [277_74]
    assert schedule.payments[:2] == [327_78, 325_00] and schedule.payments[-1] == 280_52
    assert schedule.interest == 475_00


def test_g8_daily_accrual_with_cumulative_rounding():
    postings = daily_postings(49_32, 30)
    assert postings[:6] == [1_64, 1_65, 1_64, 1_65, 1_64, 1_64]
    assert sum(postings) == 49_32


def test_r1_payday_loan_is_exactly_at_the_psk_cap():
    start = dt.date(2026, 1, 12)
    schedule = single_payment(10_000_00, Decimal("0.008"), 30, start=start)
    assert (schedule.interest, schedule.total) == (2_400_00, 12_400_00)
    cost = psk(schedule_flows(schedule, start))
    assert cost.percent == Decimal("292.000") and cost.base_days == 30
    assert abs(cost.rate - Decimal("0.24")) < Decimal("1e-20")


def test_r5_special_short_loan_hits_the_15_percent_cap():
    special = CapRule(dt.date(2023, 7, 1), Decimal("0.01"), Decimal("0.15"), Decimal("292"))
    schedule = single_payment(5_000_00, Decimal("0.01"), 15, cap=special.cost_cap(5_000_00))
    assert schedule.interest == 750_00 == special.cost_cap(5_000_00)


def test_fineract_343_a_month_at_20_percent_is_200_without_day_count_games():
    assert single_payment(1000_00, Decimal("0.20") / 30, 30).interest == 200_00


def test_the_cap_rule_follows_the_contract_date():
    rules = [RULE_613FZ, RULE_545FZ]
    assert rule_for(rules, dt.date(2026, 3, 31)) is RULE_613FZ
    assert rule_for(rules, dt.date(2026, 4, 1)) is RULE_545FZ
    assert rule_for(rules, dt.date(2020, 1, 1)) is None
    assert RULE_613FZ.cost_cap(10_000_00) == 13_000_00 and RULE_545FZ.cost_cap(333) == 333


def test_allocation_orders():
    due = {"penalty": 10_00, "interest": 50_00, "principal": 1000_00}
    assert allocate_payment(55_00, due, PENALTY_FIRST) == {"penalty": 10_00, "interest": 45_00, "principal": 0}
    assert allocate_payment(55_00, due, RU_353FZ) == {"interest": 50_00, "principal": 5_00, "penalty": 0}
    with pytest.raises(ValueError, match="more than is owed"):
        allocate_payment(1060_01, due, PENALTY_FIRST)


# -- properties -----------------------------------------------------------------------------------

principals = st.integers(min_value=1, max_value=10**9)
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.3"), places=5)
periods = st.integers(min_value=1, max_value=60)


@settings(max_examples=150, deadline=None)
@given(principals, rates, periods, st.sampled_from([annuity, equal_principal, flat]), st.sampled_from([1, 100]))
def test_schedules_repay_exactly_the_principal(principal, rate, n, build, multiple):
    kwargs = {"multiple": multiple} if build is not equal_principal else {}
    schedule = build(principal, rate, n, **kwargs)
    assert sum(i.principal for i in schedule.instalments) == principal
    assert all(i.principal >= 0 and i.interest >= 0 for i in schedule.instalments)
    assert schedule.instalments[-1].balance == 0
    assert all(a.balance >= b.balance for a, b in zip(schedule.instalments, schedule.instalments[1:], strict=False))


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=400))
def test_cumulative_accrual_sums_exactly(interest, days):
    postings = daily_postings(interest, days)
    assert sum(postings) == interest and all(p >= 0 for p in postings)


@settings(max_examples=100, deadline=None)
@given(principals, st.decimals(min_value=Decimal("0"), max_value=Decimal("0.01"), places=4),
       st.decimals(min_value=Decimal("0"), max_value=Decimal("0.2"), places=3),
       st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=399),
       st.sampled_from([RULE_613FZ, RULE_545FZ]))
def test_daily_accrual_never_exceeds_the_total_cost_cap(principal, daily, penalty_annual, days, due_after, rule):
    cap = rule.cost_cap(principal)
    interest = penalty = 0
    interest_exact = penalty_exact = Decimal(0)
    for day in range(days):
        result = accrue_day(principal_outstanding=principal, overdue_principal=principal if day >= due_after else 0,
                            daily_rate=daily, penalty_daily_rate=penalty_annual / 365, interest_exact=interest_exact,
                            interest_posted=interest, penalty_exact=penalty_exact, penalty_posted=penalty,
                            headroom=cap - interest - penalty)
        assert result.interest >= 0 and result.penalty >= 0
        interest += result.interest
        penalty += result.penalty
        interest_exact, penalty_exact = result.interest_exact, result.penalty_exact
        assert interest + penalty <= cap
    uncapped = single_payment(principal, daily, days).interest
    assert interest == min(uncapped, cap) or interest + penalty == cap


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1000, max_value=10**8), st.decimals(min_value=Decimal("0.0001"),
       max_value=Decimal("0.01"), places=4), st.integers(min_value=1, max_value=365))
def test_psk_of_a_payday_loan_is_its_daily_rate_times_the_year(principal, daily, term):
    schedule = single_payment(principal, daily, term, start=dt.date(2026, 1, 1))
    cost = psk(schedule_flows(schedule, dt.date(2026, 1, 1)))
    exact = Decimal(schedule.interest) / principal * 365 / term * 100  # one base period: i = interest / principal
    assert abs(cost.percent - exact) <= Decimal("0.0005")


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=10**9), st.dictionaries(st.sampled_from(["penalty", "interest", "principal"]),
       st.integers(min_value=0, max_value=10**9), min_size=3), st.sampled_from([PENALTY_FIRST, RU_353FZ]))
def test_allocation_is_exact(amount, due, order):
    if amount > sum(due.values()):
        return
    parts = allocate_payment(amount, due, order)
    assert sum(parts.values()) == amount and all(0 <= parts[c] <= due[c] for c in parts)


def test_psk_refuses_flows_that_are_not_a_loan():
    with pytest.raises(ValueError):
        psk([CashFlow(0, -100), CashFlow(30, 50)])
