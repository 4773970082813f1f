"""What the payments modules share: the refusals they raise and two small helpers."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from litestar.exceptions import ClientException


class PaymentRefused(ClientException):
    """A request the payments plugin will not carry out; the message says why (422)."""

    status_code = 422


class PaymentConflict(ClientException):
    """The payment is not in a state that allows this (409)."""

    status_code = 409


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_uuid(value: str) -> UUID | None:
    try:
        return UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None
