"""Turning what staff type (a form, a JSON body) into an applicant and a loan, or a clear refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from core.contracts.scoring import Applicant
from core.money import Money, MoneyError
from plugins.scoring.service import InvalidInquiry

APPLICANT_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "taxpayer_number", "passport", "phone",
                    "gender")


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInquiry(name, "must be text")
    return value.replace("\x00", "").strip()


def applicant_from(data: Mapping[str, Any], prefix: str = "") -> Applicant:
    """An :class:`Applicant` from form fields or a JSON object (``birth_date`` as YYYY-MM-DD)."""
    born_text = _text(data, "birth_date")
    born = None
    if born_text:
        try:
            born = dt.date.fromisoformat(born_text)
        except ValueError:
            raise InvalidInquiry(f"{prefix}birth_date", "must be a date as YYYY-MM-DD") from None
    gender = _text(data, "gender").lower()
    if gender not in ("", "male", "female"):
        raise InvalidInquiry(f"{prefix}gender", "must be male, female or empty")
    itn = _text(data, "taxpayer_number")
    if itn and not itn.isdigit():
        raise InvalidInquiry(f"{prefix}taxpayer_number", "must be digits only")
    return Applicant(last_name=_text(data, "last_name"), first_name=_text(data, "first_name"),
                     middle_name=_text(data, "middle_name"), birth_date=born, taxpayer_number=itn,
                     passport=_text(data, "passport"), phone=_text(data, "phone"), gender=gender)


def loan_from(data: Mapping[str, Any], default_currency: str) -> tuple[Money | None, int | None]:
    """The loan asked for (amount as a decimal string in ``currency``, term in days), both optional."""
    raw_amount = data.get("amount")
    if isinstance(raw_amount, bool | float):
        raise InvalidInquiry("amount", 'give it as a decimal string, e.g. "1500.00"')
    amount_text = str(raw_amount) if isinstance(raw_amount, int) else _text(data, "amount")
    term_text = data.get("term_days")
    amount = None
    if amount_text:
        currency = (_text(data, "currency") or default_currency).upper()
        try:
            amount = Money.of(amount_text.replace(" ", "").replace(",", "."), currency)
        except MoneyError as exc:
            raise InvalidInquiry("amount", str(exc)) from None
    term = None
    if term_text not in (None, ""):
        try:
            if isinstance(term_text, bool | float):
                raise TypeError("not a whole number")
            term = int(term_text)
        except (TypeError, ValueError):
            raise InvalidInquiry("term_days", "must be a whole number of days") from None
    return amount, term
