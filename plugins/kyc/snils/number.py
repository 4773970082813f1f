"""The SNILS check digits, by the Pension Fund's algorithm (python-stdnum has no SNILS).

A SNILS is 11 digits, printed ``XXX-XXX-XXX YY``: a nine-digit number and two check
digits. Each of the nine digits is multiplied by its position counted from the end
(9, 8, ... 1) and the products summed. A sum under 100 is the check number itself;
100 and 101 give ``00``; a larger sum is taken modulo 101, and a remainder of 100 is
``00`` again. Numbers up to ``001-001-998`` were issued before the rule and carry no
check digits worth checking.
"""

from __future__ import annotations

#: The last number issued before check digits were computed.
LAST_UNCHECKED = 1_001_998


def check_digits(number9: str) -> str:
    """The two check digits of a nine-digit number: ``check_digits("112233445") == "95"``."""
    total = sum(int(digit) * weight for digit, weight in zip(number9, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return "00" if total in (100, 101) else f"{total:02d}"


def is_valid(snils: str) -> bool:
    """True for 11 digits whose check digits are right (or that predate them)."""
    if len(snils) != 11 or not snils.isdigit():
        return False
    if int(snils[:9]) <= LAST_UNCHECKED:
        return True
    return check_digits(snils[:9]) == snils[9:]


def format_snils(snils: str) -> str:
    return f"{snils[:3]}-{snils[3:6]}-{snils[6:9]} {snils[9:]}"
