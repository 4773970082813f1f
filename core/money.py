"""Money: integer minor units inside, ``Decimal`` at the edges, never ``float``.

``Money`` is an immutable amount in a currency. Storage and the ledger use integer
minor units (kopecks); conversion is exact or it fails. Splitting an amount into
shares uses the largest-remainder method so the parts always add up to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from fractions import Fraction
from functools import cache

from babel.numbers import format_currency, get_currency_precision

#: Amounts with more digits than this before the point are refused: no account holds them (a bigint
#: holds 19), and turning "1E+999990" into an int would take a minute of CPU.
MAX_DIGITS = 30


class MoneyError(ValueError):
    """An amount that cannot be represented exactly, or currencies that do not match."""


@cache
def exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (2 for RUB, 0 for JPY)."""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise MoneyError(f"currency must be a three-letter ISO 4217 code, got {currency!r}")
    return get_currency_precision(currency)


def to_minor(amount: Decimal | int | str, currency: str) -> int:
    """Exact conversion of a decimal amount to minor units; refuses fractions of a kopeck."""
    if isinstance(amount, float):
        raise MoneyError("amounts must not be floats; pass a Decimal or a string")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError):
        raise MoneyError(f"not an amount: {amount!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not an amount: {amount!r}")
    if value.adjusted() >= MAX_DIGITS:
        # Checked before int(): "1E+999999" overflows; "1E+999990" would take a minute of CPU to become an int.
        raise MoneyError(f"not an amount: {str(amount)[:40]!r} is far too large (over {MAX_DIGITS} digits)")
    # In a context as precise as the amount: the default 28 digits would round, not refuse, a kopeck's fraction.
    scaled = value.scaleb(exponent(currency), Context(prec=len(value.as_tuple().digits) + 1))
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{amount} has more than {exponent(currency)} decimal places for {currency}")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of a currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError(f"minor units must be an int, got {type(self.minor).__name__}")
        exponent(self.currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """``Money.of("10.50", "RUB")``: from a decimal amount."""
        return cls(to_minor(amount, currency), currency)

    @property
    def amount(self) -> Decimal:
        return from_minor(self.minor, self.currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        if other == 0:  # lets sum() start from 0
            return self
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    __radd__ = __add__

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.minor <= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def format(self, locale: str = "ru") -> str:
        return format_money(self.minor, self.currency, locale)

    def split(self, weights: Sequence[int | Fraction]) -> list[Money]:
        return [Money(part, self.currency) for part in allocate(self.minor, weights)]


def format_money(minor: int, currency: str, locale: str = "ru") -> str:
    """Locale-aware display, e.g. ``1 234,50 ₽`` or ``RUB 1,234.50``."""
    return format_currency(from_minor(minor, currency), currency, locale=locale)


def allocate(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights``, exactly.

    Largest-remainder method: each part gets the floor of its exact share, and the
    units left over go one each to the largest remainders; ties go to the earlier
    weight, so the result is deterministic. The parts always sum to ``total``.
    """
    if not weights:
        raise MoneyError("cannot allocate among no one")
    if all(type(w) is int for w in weights):
        return _allocate_integers(total, weights)
    exact = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact):
        raise MoneyError("weights must not be negative")
    weight_sum = sum(exact)
    if weight_sum == 0:
        raise MoneyError("weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    shares = [magnitude * w / weight_sum for w in exact]
    parts = [int(s) for s in shares]  # floor, shares are non-negative
    left = magnitude - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return [sign * p for p in parts]


def _allocate_integers(total: int, weights: Sequence[int]) -> list[int]:
    """:func:`allocate` for integer weights in integer arithmetic: same result without a Fraction per weight.

    ``magnitude * w`` divided by the weight sum gives each floor and remainder exactly;
    comparing remainders over one common denominator is comparing the fractions. A stable
    sort by remainder, largest first, keeps equal remainders in their weights' order.
    """
    if any(w < 0 for w in weights):
        raise MoneyError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise MoneyError("weights must not all be zero")
    magnitude = abs(total)
    products = [magnitude * w for w in weights]
    parts = [p // weight_sum for p in products]
    left = magnitude - sum(parts)
    if left:
        remainders = [p % weight_sum for p in products]
        for i in sorted(range(len(parts)), key=remainders.__getitem__, reverse=True)[:left]:
            parts[i] += 1
    return parts if total >= 0 else [-p for p in parts]


def round_display(value: Decimal, places: int = 2) -> Decimal:
    """Round a ratio or share for display only (banker's rounding)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
