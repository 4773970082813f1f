"""WayForPay's ``merchantSignature``: HMAC-MD5 of fields joined with ``;``.

Which fields are signed, and in what order, depends on the message (``SIGNED_FIELDS``).
Lists (the product block) are expanded in place. Amounts are rendered the way the
provider's PHP renders numbers (``1547.36``, ``1000``): see :func:`amount_text`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from plugins.payments.wire import safe_equal

#: The signed fields of each message, in order.
SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "purchase": ("merchantAccount", "merchantDomainName", "orderReference", "orderDate", "amount", "currency",
                 "productName", "productCount", "productPrice"),
    "charge": ("merchantAccount", "merchantDomainName", "orderReference", "orderDate", "amount", "currency",
               "productName", "productCount", "productPrice"),
    "refund": ("merchantAccount", "orderReference", "amount", "currency"),
    "settle": ("merchantAccount", "orderReference", "amount", "currency"),
    "check_status": ("merchantAccount", "orderReference"),
    "transaction_list": ("merchantAccount", "dateBegin", "dateEnd"),
    # Answers: CHECK_STATUS, CHARGE and SETTLE responses and the serviceUrl callback.
    "status_answer": ("merchantAccount", "orderReference", "amount", "currency", "authCode", "cardPan",
                      "transactionStatus", "reasonCode"),
    "refund_answer": ("merchantAccount", "orderReference", "transactionStatus", "reasonCode"),
    # The merchant's reply to a serviceUrl callback.
    "accept": ("orderReference", "status", "time"),
}


def amount_text(amount: Decimal) -> str:
    """``Decimal("1547.360")`` -> ``"1547.36"``, ``Decimal("1000.00")`` -> ``"1000"``."""
    text = format(amount.normalize(), "f")
    return text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return amount_text(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):  # only ever from JSON a provider sent us
        return amount_text(Decimal(repr(value)))
    return str(value)


def signed_string(message: str, params: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for name in SIGNED_FIELDS[message]:
        value = params.get(name)
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            parts.extend(_text(v) for v in value)
        else:
            parts.append(_text(value))
    return ";".join(parts)


def signature(secret: str, message: str, params: Mapping[str, Any]) -> str:
    return hmac.new(secret.encode("utf-8"), signed_string(message, params).encode("utf-8"), hashlib.md5).hexdigest()


def is_valid(secret: str, message: str, params: Mapping[str, Any]) -> bool:
    given = params.get("merchantSignature")
    if not isinstance(given, str) or not given:
        return False
    return safe_equal(signature(secret, message, params), given)
