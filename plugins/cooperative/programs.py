"""Programs: what an administrator configures, checked field by field (a 422 names the field)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from core.projects import forms
from core.projects.errors import Invalid
from plugins.cooperative.queue import Rules

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def text(value: Any, field: str, limit: int, *, required: bool = False) -> str | None:
    """A short text as typed (None when empty); 422 for non-text, control characters or too long."""
    if value is None or value == "":
        if required:
            raise Invalid("required", field=field)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Invalid("a text is expected", field=field)
    result = str(value).strip()
    if any(unicodedata.category(ch)[0] == "C" for ch in result):
        raise Invalid("control characters are not allowed", field=field)
    if len(result) > limit:
        raise Invalid(f"at most {limit} characters", field=field)
    if required and not result:
        raise Invalid("required", field=field)
    return result or None


def whole(value: Any, field: str, low: int, high: int, default: int | None = None) -> int:
    if value in (None, "") and default is not None:
        return default
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(f"{value!r} is not a whole number", field=field) from None
    if not low <= number <= high:
        raise Invalid(f"from {low} to {high}", field=field)
    return number


def ratio(value: Any, field: str, *, low: Decimal, default: str) -> Decimal:
    """A share such as ``0.5`` (at most six decimal places), from ``low`` to 1."""
    if value in (None, ""):
        value = default
    try:
        if isinstance(value, bool | float):
            raise InvalidOperation
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise Invalid(f"{value!r} is not a number such as 0.5", field=field) from None
    if not number.is_finite() or not low <= number <= 1 or number != number.quantize(Decimal("0.000001")):
        raise Invalid(f"a number from {low} to 1, at most six decimal places", field=field)
    return number


def flag(value: Any, default: bool) -> bool:
    if value in (None, ""):
        return default
    return forms.flag(value)


def program_fields(fields: dict[str, Any], currency: str) -> dict[str, Any]:
    """The validated columns of a program from a form or JSON body."""
    code = text(fields.get("code"), "code", 40, required=True)
    if not CODE.match(code or ""):
        raise Invalid("lower-case letters, digits, - and _ (starting with a letter or digit)", field="code")
    result = {
        "code": code,
        "name": text(fields.get("name"), "name", 200, required=True),
        "currency": currency,
        "min_target_minor": forms.amount_minor(fields.get("min_target"), currency, "min_target"),
        "max_target_minor": forms.amount_minor(fields.get("max_target"), currency, "max_target"),
        "min_share": ratio(fields.get("min_share"), "min_share", low=Decimal("0.000001"), default="0.5"),
        "min_membership_days": whole(fields.get("min_membership_days"), "min_membership_days", 0, 3650, 90),
        "reserve_ratio": ratio(fields.get("reserve_ratio"), "reserve_ratio", low=Decimal(0), default="0.1"),
        "strict_queue": flag(fields.get("strict_queue"), True),
        "valuation_day": whole(fields.get("valuation_day"), "valuation_day", 0, 28, 0),
        "instalment_count": whole(fields.get("instalment_count"), "instalment_count", 1, 600, 12),
        "instalment_days": whole(fields.get("instalment_days"), "instalment_days", 1, 366, 30),
    }
    if result["max_target_minor"] < result["min_target_minor"]:
        raise Invalid("must not be below min_target", field="max_target")
    return result


def rules_of(program: Any) -> Rules:
    return Rules(min_share=Fraction(program["min_share"]), min_membership_days=program["min_membership_days"],
                 reserve_ratio=Fraction(program["reserve_ratio"]), strict_queue=program["strict_queue"])


def program_json(program: Any) -> dict[str, Any]:
    return {"id": str(program["id"]), "code": program["code"], "name": program["name"],
            "currency": program["currency"], "min_target_minor": program["min_target_minor"],
            "max_target_minor": program["max_target_minor"], "min_share": str(program["min_share"]),
            "min_membership_days": program["min_membership_days"], "reserve_ratio": str(program["reserve_ratio"]),
            "strict_queue": program["strict_queue"], "valuation_day": program["valuation_day"],
            "instalment_count": program["instalment_count"], "instalment_days": program["instalment_days"],
            "active": program["active"]}


def member_label(member_id: uuid.UUID) -> str:
    """How the public queue names a member: a short code, never a name or login."""
    return "M-" + member_id.hex[:6].upper()
