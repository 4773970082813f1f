"""E-mail addresses and phone numbers: the forms we store them in."""

from __future__ import annotations

import re

from core.access.inputs import is_text
from core.contracts.notifications import EMAIL, PHONE, Address
from core.web.i18n import gettext as _

_EMAIL = re.compile(
    r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE_NOISE = re.compile(r"[\s()\-.]")


class ContactError(ValueError):
    """Not an e-mail address or phone number we can use (the message says why)."""


def normalize_email(value: str) -> str:
    email = value.strip().lower()
    if not is_text(email):
        raise ContactError(_("not a valid e-mail address"))
    if len(email) > 254 or not _EMAIL.match(email):
        raise ContactError(_("not a valid e-mail address"))
    return email


def normalize_phone(value: str) -> str:
    """E.164 (``+79991234567``); a Russian ``8 999 …`` becomes ``+7 999 …``."""
    phone = _PHONE_NOISE.sub("", value.strip())
    if phone.startswith("8") and len(phone) == 11:
        phone = "+7" + phone[1:]
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not phone.startswith("+"):
        phone = "+" + phone
    digits = phone[1:]
    if not digits.isdigit() or not 10 <= len(digits) <= 15 or digits.startswith("0"):
        raise ContactError(_("not a valid phone number: use the international form, e.g. +7 999 123-45-67"))
    return phone


def parse_login(value: str, allowed: list[str] | tuple[str, ...] = (EMAIL, PHONE)) -> Address:
    """An e-mail address or a phone number, whichever ``value`` looks like."""
    value = (value or "").strip()
    if not value:
        raise ContactError(_("enter an e-mail address or a phone number"))
    if not is_text(value):
        raise ContactError(_("not a valid e-mail address or phone number"))
    if "@" in value:
        if EMAIL not in allowed:
            raise ContactError(_("sign-in with an e-mail address is not available here; use a phone number"))
        return Address(EMAIL, normalize_email(value))
    if PHONE not in allowed:
        raise ContactError(_("sign-in with a phone number is not available here; use an e-mail address"))
    return Address(PHONE, normalize_phone(value))


def normalize(kind: str, value: str) -> str:
    if kind == EMAIL:
        return normalize_email(value)
    if kind == PHONE:
        return normalize_phone(value)
    raise ContactError(f"unknown contact kind {kind!r}: use email or phone")
