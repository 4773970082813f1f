"""Money maths: exact conversions and exact splits (property tests)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, MoneyError, allocate, from_minor, to_minor


@given(st.integers(min_value=-10**15, max_value=10**15),
       st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60).filter(any))
def test_allocate_is_exact_and_fair(total, weights):
    parts = allocate(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert abs(part - exact) < 1  # each part is its exact share rounded to a neighbour
        if weight == 0:
            assert part == 0


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=50))
def test_equal_weights_differ_by_at_most_one_and_favour_the_first(total, n):
    parts = allocate(total, [1] * n)
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


@given(st.integers(min_value=-10**12, max_value=10**12),
       st.lists(st.sampled_from([0, 1, 2, 3, 7, 10**6 + 1]), min_size=1, max_size=40).filter(any))
def test_integer_weights_split_as_their_exact_fractions_do(total, weights):
    # Few distinct weights, so remainders tie often: the fast integer path must break ties as the exact one does.
    assert allocate(total, weights) == allocate(total, [Fraction(w) for w in weights])


def test_allocate_is_deterministic_on_ties():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]


@given(st.integers(min_value=-10**15, max_value=10**15), st.sampled_from(["RUB", "UAH", "USD", "JPY", "KWD"]))
def test_minor_units_round_trip(minor, currency):
    assert to_minor(from_minor(minor, currency), currency) == minor


def test_conversion_refuses_what_it_cannot_represent():
    assert to_minor("10.50", "RUB") == 1050 and to_minor(Decimal("7"), "JPY") == 7
    with pytest.raises(MoneyError, match="more than 2 decimal places"):
        to_minor("0.001", "RUB")
    with pytest.raises(MoneyError, match="floats"):
        to_minor(0.1, "RUB")
    with pytest.raises(MoneyError, match="ISO 4217"):
        to_minor("1", "rub")
    with pytest.raises(MoneyError):
        to_minor("NaN", "RUB")
    for huge in ("1e999999", "-1E+999999999999999999", "1E+999990", "1" + "0" * 30):  # overflow; a minute of CPU
        with pytest.raises(MoneyError, match="too large"):
            to_minor(huge, "RUB")
    assert to_minor("9" * 30, "RUB") == int("9" * 30) * 100  # exact beyond the default 28 digits of Decimal
    with pytest.raises(MoneyError, match="decimal places"):  # was rounded to 1.00
        to_minor("1.00000000000000000000000000001", "RUB")


def test_money_arithmetic_keeps_currencies_apart():
    a, b = Money.of("10.00", "RUB"), Money.of("0.05", "RUB")
    assert (a + b).minor == 1005 and sum([a, b]).amount == Decimal("10.05")
    with pytest.raises(MoneyError):
        a + Money.of("1", "USD")
    assert a.split([1, 2]) == [Money(333, "RUB"), Money(667, "RUB")]
    assert Money(123456, "RUB").format("ru") == "1\xa0234,56\xa0₽"
