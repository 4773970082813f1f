"""Fondy's request and response signature (protocol 1.0).

SHA-1 of the secret key and every non-empty parameter value, ordered by parameter
name and joined with ``|`` (``cloudipsp/python-sdk`` ``helpers.get_signature``). The
``signature`` field itself and the test-mode ``response_signature_string`` are left out
when a response or callback is checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from plugins.payments.wire import safe_equal

UNSIGNED_FIELDS = frozenset({"signature", "response_signature_string"})


def signature(secret: str, params: Mapping[str, Any]) -> str:
    values = [
        str(params[name])
        for name in sorted(params)
        if name not in UNSIGNED_FIELDS and params[name] is not None and params[name] != ""
    ]
    return hashlib.sha1("|".join([secret, *values]).encode("utf-8")).hexdigest()


def sign(secret: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with their ``signature`` added."""
    return {**params, "signature": signature(secret, params)}


def is_valid(secret: str, params: Mapping[str, Any]) -> bool:
    given = params.get("signature")
    if not isinstance(given, str) or not given:
        return False
    return safe_equal(signature(secret, params), given)
