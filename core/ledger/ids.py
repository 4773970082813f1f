"""Transfer ids: deterministic from business keys, or new and time-ordered.

The id of a transfer is its idempotency key. A plugin that moves money because of an
outside event (a payment, a webhook, a scheduled accrual) derives the id from that
event's own key, so every retry of the same event names the same transfer::

    transfer_id("payments", "topup", payment_id)
    transfer_id("loans", "accrual", loan_id, business_date)

Money moved for no outside reason can take :func:`new_transfer_id`, whose ids grow with
time and are kinder to the primary-key index (TigerBeetle's advice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid

#: Fixed forever: changing it would change every derived id and break idempotency.
NAMESPACE = uuid.UUID("5b0e3c1e-7a4f-4f0e-9a55-6b6f70696c6b")
_SEPARATOR = "\x1f"
_NAMESPACE_BYTES = NAMESPACE.bytes

# A UUID is built from its integer without UUID.__init__, which validates its arguments
# at length: ids are made for every transfer, and these integers are valid by construction.
_new_object = object.__new__
_set_field = object.__setattr__
_UUID = uuid.UUID
_SAFE_UNKNOWN = uuid.SafeUUID.unknown


def _uuid_from_int(value: int) -> uuid.UUID:
    made = _new_object(_UUID)
    _set_field(made, "int", value)
    _set_field(made, "is_safe", _SAFE_UNKNOWN)
    return made


#: Version 5 (bits 76-79) and the RFC 4122 variant (bits 62-63) of a name-based id.
_V5_CLEAR = ~((0xF << 76) | (0x3 << 62)) & (2**128 - 1)
_V5_SET = (0x5 << 76) | (0x2 << 62)


def _part(value: object) -> str:
    kind = type(value)
    if kind is str:
        text = value
    elif kind is int or kind is _UUID:
        text = str(value)
    elif isinstance(value, bool) or value is None:
        raise TypeError(f"transfer_id parts must be strings, ints, UUIDs or dates, got {value!r}")
    elif isinstance(value, str | int | uuid.UUID | dt.date):
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
    else:
        raise TypeError(
            f"transfer_id parts must be strings, ints, UUIDs or dates, got {type(value).__name__}"
        )
    if _SEPARATOR in text:
        raise ValueError("transfer_id parts must not contain the unit separator \\x1f")
    return text


def transfer_id(*parts: object) -> uuid.UUID:
    """A UUID (version 5) determined by ``parts``: the same parts always give the same id.

    Start with the plugin's name so that two plugins never derive the same id.
    """
    if not parts:
        raise ValueError(
            "transfer_id needs at least one part, e.g. transfer_id('payments', 'topup', payment_id)"
        )
    # uuid.uuid5(NAMESPACE, name), without the validating constructor
    name = _SEPARATOR.join([_part(p) for p in parts]).encode()
    digest = hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()
    return _uuid_from_int(int.from_bytes(digest[:16], "big") & _V5_CLEAR | _V5_SET)


#: Random 74-bit numbers from the OS, made 409 at a time (one system call). ``list.pop`` is
#: atomic, so two threads never get the same number.
_random_pool: list[int] = []


def _refill() -> None:
    chunk = os.urandom(4090)
    _random_pool.extend([int.from_bytes(chunk[i : i + 10], "big") >> 6 for i in range(0, 4090, 10)])


#: Version 7 (bits 76-79) and the RFC 4122 variant (bits 62-63) of a time-ordered id.
_V7 = (0x7 << 76) | (0x2 << 62)


def new_transfer_id() -> uuid.UUID:
    """A new random UUID whose first 48 bits are the current time in milliseconds (UUIDv7)."""
    try:
        rand = _random_pool.pop()
    except IndexError:
        _refill()
        rand = _random_pool.pop()
    millis = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    # 74 random bits: 12 after the version, 62 after the variant
    return _uuid_from_int(millis << 80 | _V7 | (rand >> 62) << 64 | rand & (2**62 - 1))
