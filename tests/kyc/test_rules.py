"""The offline rules: SNILS check digits, passport consistency, and reading the form."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.contracts.kyc import ITN, PASSPORT, SNILS
from plugins.kyc.documents import read_subject
from plugins.kyc.itn.check import itn_problem
from plugins.kyc.passport import rules
from plugins.kyc.snils.number import check_digits, format_snils, is_valid
from plugins.kyc.testing import person

TODAY = dt.date(2026, 11, 22)


# -- SNILS ----------------------------------------------------------------------------------


def test_snils_official_example():
    # The Pension Fund's example: 1·9+1·8+2·7+2·6+3·5+3·4+4·3+4·2+5·1 = 95.
    assert check_digits("112233445") == "95"
    assert is_valid("11223344595") and not is_valid("11223344596")
    assert format_snils("11223344595") == "112-233-445 95"


def test_snils_sums_of_100_and_above():
    assert check_digits("123456789") == "64"   # 165 % 101
    assert check_digits("087654303") == "00"   # 202 % 101 == 0
    assert check_digits("002506816") == "00"   # 100
    assert check_digits("002229651") == "00"   # 101
    assert check_digits("007994683") == "00"   # 201 % 101 == 100
    assert check_digits("100000001") == "10"   # 9 + 1


def weighted_sum(nine: str) -> int:
    return sum(int(d) * (9 - i) for i, d in enumerate(nine))


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_snils_check_digits_follow_the_official_rule(nine):
    total = weighted_sum(nine)
    expected = total if total < 100 else 0 if total in (100, 101) else (total % 101) % 100
    assert check_digits(nine) == f"{expected:02d}"
    assert len(check_digits(nine)) == 2
    if int(nine) > 1_001_998:
        assert is_valid(nine + check_digits(nine))
        wrong = f"{(int(check_digits(nine)) + 1) % 100:02d}"
        assert not is_valid(nine + wrong)


@given(st.integers(min_value=0, max_value=1_001_998), st.text(alphabet="0123456789", min_size=2, max_size=2))
def test_snils_before_the_rule_are_all_accepted(number, tail):
    assert is_valid(f"{number:09d}{tail}")


# -- ITN (python-stdnum) --------------------------------------------------------------------------


def test_itn_check_digits_come_from_stdnum():
    assert itn_problem("123456789047") is None        # stdnum's own example
    assert itn_problem("123456789037") is not None    # its invalid one
    assert itn_problem("7707083893") is not None      # a company's (10 digits): not a person's


# -- passports ------------------------------------------------------------------------------------------


def test_passport_replacement_at_20_and_45():
    born = dt.date(1990, 5, 10)
    issued_at_14 = dt.date(2004, 6, 1)
    assert rules.valid_until(issued_at_14, born) == dt.date(2010, 5, 10) + rules.GRACE
    assert rules.EXPIRED[20] in rules.reasons_against("4504123456", issued_at_14, born, TODAY)
    issued_at_20 = dt.date(2010, 6, 1)
    assert rules.valid_until(issued_at_20, born) == dt.date(2035, 5, 10) + rules.GRACE
    assert rules.reasons_against("4510123456", issued_at_20, born, TODAY) == []
    assert rules.valid_until(dt.date(2036, 1, 1), born) is None
    # 29 February: the birthday is 1 March in other years.
    assert rules.birthday(dt.date(2004, 2, 29), 20) == dt.date(2024, 2, 29)
    assert rules.birthday(dt.date(2004, 2, 29), 21) == dt.date(2025, 3, 1)


def test_passport_series_year_and_form_problems():
    born = dt.date(1990, 5, 10)
    assert rules.SERIES_YEAR in rules.reasons_against("4525123456", dt.date(2012, 1, 1), born, TODAY)
    assert rules.SERIES_YEAR not in rules.reasons_against("4598123456", dt.date(1999, 1, 1), dt.date(1980, 1, 1), TODAY)
    fields = {p.field: p.message for p in rules.form_problems("0010000000", dt.date(1997, 1, 1), born)}
    assert fields["passport_issued_on"] == rules.TOO_EARLY and fields["passport_number"] == rules.NO_NUMBER
    early = rules.form_problems("4510123456", dt.date(2003, 1, 1), born)
    assert [p.message for p in early] == [rules.BEFORE_14]


# -- the form ---------------------------------------------------------------------------------------------


def read(fields, **kw):
    options = {"offered": [ITN, PASSPORT, SNILS], "required": [ITN, PASSPORT], "min_age": 18, "today": TODAY}
    return read_subject(fields, **{**options, **kw})


def test_a_good_form_reads_into_a_subject_of_digits_and_dates():
    reading = read(person(passport_number="40 20 654321", snils="112-233-445 95", passport_issuer_code="770001"))
    assert reading.problems == []
    s = reading.subject
    assert s.document(PASSPORT).number == "4020654321" and s.document(PASSPORT).issuer_code == "770-001"
    assert s.document(SNILS).number == "11223344595"
    assert s.birth_date == dt.date(1995, 7, 2)


def test_dates_as_printed_are_read_too():
    reading = read(person(birth_date="02.07.1995", passport_issued_on="15.08.2020"))
    assert reading.problems == [] and reading.subject.document(PASSPORT).issued_on == dt.date(2020, 8, 15)


def test_each_wrong_field_is_named():
    reading = read({"last_name": "Smith", "first_name": "", "birth_date": "2015-01-01", "itn": "12a",
                    "passport_number": "45 10", "passport_issued_on": "31.02.2020", "snils": ""})
    fields = {p.field for p in reading.problems}
    assert fields == {"last_name", "first_name", "birth_date", "itn", "passport_number", "passport_issued_on",
                      "passport_issuer_code"}
    assert reading.subject.documents == {}  # nothing malformed reaches the checks


def test_required_documents_and_age():
    reading = read(person(itn="", birth_date="2010-01-01"))
    assert {p.field for p in reading.problems} == {"itn", "birth_date"}
    assert read(person(itn=""), required=[PASSPORT]).problems == []
