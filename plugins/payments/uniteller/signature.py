"""Uniteller's signatures: upper-case MD5 built two ways.

* Payment form and recurrent requests: the MD5 of each field (empty string for an
  absent one), joined with ``&``, hashed again (``SignaturePayment`` /
  ``SignatureRecurrent`` in ``tmconsulting/uniteller-php-sdk``).
* Callbacks: MD5 of ``Order_ID``, ``Status``, any extra callback fields in the order
  they arrived, and the password, concatenated with no separator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from plugins.payments.wire import safe_equal

#: The payment form's signed fields, in order; the password comes last.
PAYMENT_FIELDS = ("Shop_IDP", "Order_IDP", "Subtotal_P", "MeanType", "EMoneyType", "Lifetime", "Customer_IDP",
                  "Card_IDP", "IData", "PT_Code")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def chained(values: Sequence[str]) -> str:
    return _md5("&".join(_md5(v) for v in values)).upper()


def payment_signature(fields: dict[str, str], password: str) -> str:
    return chained([*(fields.get(name, "") for name in PAYMENT_FIELDS), password])


def recurrent_signature(shop_idp: str, order_idp: str, subtotal: str, parent_order_idp: str, password: str,
                        parent_shop_idp: str = "") -> str:
    values = [shop_idp, *([parent_shop_idp] if parent_shop_idp else []), order_idp, subtotal, parent_order_idp,
              password]
    return chained(values)


def callback_signature(order_id: str, status: str, extra: Sequence[str], password: str) -> str:
    return _md5(order_id + status + "".join(extra) + password).upper()


def safe_signature_equal(expected: str, given: str) -> bool:
    return bool(given) and safe_equal(expected, given)


def is_valid_callback(order_id: str, status: str, extra: Sequence[str], password: str, given: str) -> bool:
    return bool(given) and safe_equal(callback_signature(order_id, status, extra, password), given)
