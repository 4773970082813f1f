"""What a Russian internal passport's data must look like, and when such a passport stops being valid.

* The series is four digits: the region's code (OKATO), then the last two digits of the
  year the blank was printed. The number is six digits. The issuing unit's code is
  ``NNN-NNN``.
* Passports of this kind are issued since 1 October 1997, first at 14.
* A passport must be replaced at 20 and at 45; one issued before such a birthday stops
  being valid 90 days after it.
* A blank is used after it is printed, usually within a few years: a series year after the
  year of issue, or long before it, is worth a person's look.
"""

from __future__ import annotations

import datetime as dt

from core.contracts.kyc import KycProblem

N_ = str
FIRST_ISSUE = dt.date(1997, 10, 1)
FIRST_AGE = 14
REPLACE_AT = (20, 45)
GRACE = dt.timedelta(days=90)
#: How long before the year of issue a blank may have been printed, and after (blanks for next year).
BLANK_YEARS_BEFORE, BLANK_YEARS_AFTER = 5, 1

NO_REGION = N_("check the series: its first two digits are a region's code, never 00")
NO_NUMBER = N_("check the number: 000000 is never issued")
TOO_EARLY = N_("passports of this kind are issued since 1 October 1997")
BEFORE_14 = N_("a passport is first issued at 14: check the date of issue")
SERIES_YEAR = N_("the year in the series does not fit the date of issue")
EXPIRED = {
    20: N_("the passport had to be replaced at 20 and is no longer valid"),
    45: N_("the passport had to be replaced at 45 and is no longer valid"),
}


def birthday(born: dt.date, age: int) -> dt.date:
    """The ``age``-th birthday (29 February falls on 1 March in other years)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return dt.date(born.year + age, 3, 1)


def blank_year(number: str) -> int:
    yy = int(number[2:4])
    return 1900 + yy if yy >= 97 else 2000 + yy


def form_problems(number: str, issued_on: dt.date | None, born: dt.date | None) -> list[KycProblem]:
    """Mistakes in the data typed (shown next to the fields)."""
    problems = []
    if number[:2] == "00":
        problems.append(KycProblem("passport_number", NO_REGION))
    if number[4:] == "000000":
        problems.append(KycProblem("passport_number", NO_NUMBER))
    if issued_on is not None:
        if issued_on < FIRST_ISSUE:
            problems.append(KycProblem("passport_issued_on", TOO_EARLY))
        elif born is not None and issued_on < birthday(born, FIRST_AGE):
            problems.append(KycProblem("passport_issued_on", BEFORE_14))
    return problems


def valid_until(issued_on: dt.date, born: dt.date) -> dt.date | None:
    """The last day the passport is valid (None: for life, issued after 45)."""
    for age in REPLACE_AT:
        replace_on = birthday(born, age)
        if issued_on < replace_on:
            return replace_on + GRACE
    return None


def reasons_against(number: str, issued_on: dt.date, born: dt.date, today: dt.date) -> list[str]:
    """Why a well-formed passport may still not be good (for a reviewer)."""
    reasons = []
    if not issued_on.year - BLANK_YEARS_BEFORE <= blank_year(number) <= issued_on.year + BLANK_YEARS_AFTER:
        reasons.append(SERIES_YEAR)
    for age in REPLACE_AT:
        replace_on = birthday(born, age)
        if issued_on < replace_on and today > replace_on + GRACE:
            reasons.append(EXPIRED[age])
            break
    return reasons
