"""The queue maths: exact scores, eligibility, the pool, and the allotment's properties."""

import datetime as dt
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.cooperative.queue import (
    Candidate,
    Movement,
    Rules,
    allot,
    available,
    instalments,
    is_eligible,
    months_to_eligibility,
    score,
)

D0 = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def test_score_is_ruble_days_per_unit_of_target():
    moves = [Movement(day(0), 500_000_00), Movement(day(10), 100_000_00), Movement(day(20), -50_000_00)]
    # 500k × 30 + 100k × 20 − 50k × 10 = 16.5M ruble-days over a 1M target
    assert score(moves, 1_000_000_00, day(30)) == Fraction(33, 2)
    assert score(moves, 1_000_000_00, day(5)) == Fraction(5, 2), "later movements do not count yet"


def test_eligibility_needs_share_membership_and_no_arrears():
    rules = Rules(min_share=Fraction(1, 2), min_membership_days=90)
    member = Candidate("a", day(0), 1_000_00, (Movement(day(0), 500_00),))
    assert is_eligible(member, rules, day(90))
    assert not is_eligible(member, rules, day(89))
    assert not is_eligible(Candidate("a", day(0), 1_000_00, (Movement(day(0), 499_99),)), rules, day(90))
    assert not is_eligible(Candidate("a", day(0), 1_000_00, member.movements, in_arrears=True), rules, day(90))


def test_the_reserve_is_rounded_up():
    assert available(1000, 333, 0, Fraction(1, 10)) == 1000 - 34
    assert available(10, 1000, 0, Fraction(1, 10)) == 0


def test_a_strict_queue_stops_a_lenient_one_skips():
    on = day(100)
    big = Candidate("big", day(0), 900, (Movement(day(0), 600),))
    small = Candidate("small", day(1), 300, (Movement(day(1), 200),))
    strict = allot([small, big], Rules(reserve_ratio=Fraction(0)), on, cash_minor=800)
    assert [p.member_id for p in strict.queue] == ["big", "small"] and strict.allotted == []
    lenient = allot([small, big], Rules(reserve_ratio=Fraction(0), strict_queue=False), on, cash_minor=800)
    assert lenient.allotted == ["small"] and lenient.allotted_minor == 300


def test_ties_go_to_who_joined_first_then_the_member_id():
    on = day(100)
    a = Candidate("b", day(0), 1000, (Movement(day(10), 600),))
    b = Candidate("a", day(0), 1000, (Movement(day(10), 600),))
    c = Candidate("z", day(-1), 1000, (Movement(day(10), 600),))
    result = allot([a, b, c], Rules(reserve_ratio=Fraction(0)), on, cash_minor=2000)
    assert [p.member_id for p in result.queue] == ["z", "a", "b"] and result.allotted == ["z", "a"]


def test_instalments_sum_exactly():
    plan = instalments(1000_01, 3, day(30), 30)
    assert [a for _, _, a in plan] == [333_34, 333_34, 333_33] and plan[2][1] == day(90)


member_ids = st.uuids()
candidates = st.lists(
    st.builds(
        lambda mid, joined, target, moves, arrears: Candidate(
            mid, day(joined), target, tuple(Movement(day(d), a) for d, a in moves), arrears),
        member_ids, st.integers(0, 200), st.integers(1, 10**9),
        st.lists(st.tuples(st.integers(0, 365), st.integers(1, 10**9)), max_size=5), st.booleans()),
    max_size=12, unique_by=lambda c: c.member_id)
rules = st.builds(Rules, st.fractions(Fraction(1, 100), 1), st.integers(0, 120), st.fractions(0, 1), st.booleans())


@settings(max_examples=150, deadline=None)
@given(candidates, rules, st.integers(0, 10**10), st.integers(0, 10**9), st.integers(0, 400))
def test_allotments_never_exceed_the_pool_and_the_order_is_deterministic(members, rules, cash, committed, when):
    on = day(when)
    result = allot(members, rules, on, cash_minor=cash, committed_minor=committed)
    assert result.available_minor <= max(0, cash - committed)
    assert 0 <= result.allotted_minor <= result.available_minor
    assert result.allotted_minor == sum(c.target_minor for c in members if c.member_id in set(result.allotted))
    assert allot(list(reversed(members)), rules, on, cash_minor=cash, committed_minor=committed) == result
    assert [p.rank for p in result.queue] == list(range(1, len(members) + 1))
    if rules.strict_queue:
        # Never skip: once an eligible member is passed over, nobody after them is allotted.
        passed_over = False
        for place in result.queue:
            if place.eligible and not place.allotted:
                passed_over = True
            assert not (passed_over and place.allotted)
    for place in result.queue:
        assert not place.allotted or place.eligible


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 10**9)), min_size=1, max_size=5),
       st.integers(1, 10**9), st.integers(100, 500), st.integers(1, 100))
def test_the_score_grows_with_time_while_the_balance_stays(moves, target, start, later):
    movements = [Movement(day(d), a) for d, a in moves]
    assert score(movements, target, day(start + later)) > score(movements, target, day(start))


def test_months_to_eligibility_takes_the_longer_of_share_and_membership():
    rules = Rules(min_share=Fraction(1, 2), min_membership_days=90)
    assert months_to_eligibility(1_000_000_00, 50_000_00, rules) == 10
    assert months_to_eligibility(1_000_000_00, 500_000_00, rules) == 3, "90 days of membership"
    assert months_to_eligibility(1_000_000_00, 50_000_00, rules, balance_minor=500_000_00, days_member=90) == 0


@given(st.integers(1, 10**9).flatmap(lambda t: st.tuples(st.just(t), st.integers(t // 300 + 1, 10**9))),
       st.fractions(Fraction(1, 100), 1), st.integers(0, 400))
def test_after_the_forecast_months_the_member_is_eligible(target_monthly, min_share, min_days):
    target, monthly = target_monthly
    rules = Rules(min_share=min_share, min_membership_days=min_days)
    months = months_to_eligibility(target, monthly, rules)
    joined = D0
    on = joined + dt.timedelta(days=30 * months)
    saved = Candidate("m", joined, target, tuple(Movement(joined, monthly) for _ in range(months)))
    assert is_eligible(saved, rules, on)
    if months:
        fewer = Candidate("m", joined, target, tuple(Movement(joined, monthly) for _ in range(months - 1)))
        assert not is_eligible(fewer, rules, joined + dt.timedelta(days=30 * (months - 1)))
