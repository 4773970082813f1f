"""HTTP plumbing the gateways share: calls that turn network failures into results.

A gateway must not raise for a business outcome, and a network failure is one: the
question is only whether the provider may have acted. :func:`call` answers it the way
Kill Bill does: if the request surely never left (no connection), the operation did not
happen (``CANCELED``); if it may have arrived (a timeout while waiting, a 5xx, an answer
we cannot read), nobody knows (``UNDEFINED``) and the janitor asks the provider later.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from core.contracts.payments import GatewayResult, GatewayStatus, Operation, PaymentRef


@dataclass(frozen=True)
class WireFailure:
    """A call that produced no usable answer."""

    status: GatewayStatus  # CANCELED or UNDEFINED
    code: str
    message: str

    def result(self, operation: Operation, payment_id: str) -> GatewayResult:
        # A status query that failed says nothing about the payment: unknown, never canceled.
        status = GatewayStatus.UNDEFINED if operation is Operation.STATUS else self.status
        return GatewayResult(status, operation, payment_id, error_code=self.code, error_message=self.message)


def unseen_order(payment: PaymentRef, lifetime_s: float, code: str, message: str) -> GatewayResult:
    """The status of an order the provider does not know (hosted-page providers learn of an
    order when the customer reaches the page): PENDING while the page may still be opened,
    CANCELED once its lifetime is over."""
    expired = payment.created_at is not None and (
        dt.datetime.now(dt.UTC) - payment.created_at).total_seconds() > lifetime_s
    return GatewayResult(GatewayStatus.CANCELED if expired else GatewayStatus.PENDING, Operation.STATUS,
                         payment.payment_id, error_code=code, error_message=message)


def load_json(text: str, *, parse_float: Any = None) -> Any:
    """A provider's JSON, or None when it is not JSON we can use.

    Besides syntax errors, that is nesting deep enough to exhaust the parser's recursion
    and escaped lone surrogates (``"\\ud800"``), which no text can hold: both would
    otherwise surface later, as exceptions far from here.
    """
    try:
        data = json.loads(text, parse_float=parse_float)
    except (ValueError, RecursionError):
        return None
    if "\\u" in text:
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (UnicodeEncodeError, RecursionError):
            return None
    return data


@dataclass(frozen=True)
class WireResponse:
    status_code: int
    text: str
    content_type: str

    def json(self) -> Any:
        """The answer as JSON, or None (see :func:`load_json`)."""
        return load_json(self.text)


_EXACT = re.compile(r'"\\u0000dec:(-?[0-9.]+)"')


def dumps_exact(value: Any) -> str:
    """JSON with ``Decimal`` amounts written as exact numbers (``1547.36``), never through float."""

    def mark(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return "\u0000dec:" + format(obj.normalize(), "f")
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    return _EXACT.sub(r"\1", json.dumps(value, default=mark, ensure_ascii=False))


def safe_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two signatures (case-insensitive hex)."""
    return hmac.compare_digest(a.strip().lower().encode(), b.strip().lower().encode())


class Wire:
    """Makes a gateway's outgoing calls. ``transport`` lets tests route them in-process."""

    def __init__(self, timeout_s: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout_s = timeout_s
        self.transport = transport

    async def post(
        self,
        url: str,
        *,
        json_body: Any = None,
        form: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WireResponse | WireFailure:
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                if json_body is not None:
                    response = await client.post(url, content=dumps_exact(json_body).encode("utf-8"),
                                                 headers={"content-type": "application/json", **(headers or {})})
                else:
                    response = await client.post(url, data=dict(form or {}), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
                httpx.InvalidURL) as exc:
            return WireFailure(GatewayStatus.CANCELED, "connection_failed", f"could not reach {url}: {exc!r}")
        except httpx.TimeoutException:
            return WireFailure(GatewayStatus.UNDEFINED, "timeout", f"no answer from {url} within {self.timeout_s}s")
        except httpx.HTTPError as exc:
            return WireFailure(GatewayStatus.UNDEFINED, "transport_error", f"call to {url} failed: {exc!r}")
        if response.status_code >= 500:
            return WireFailure(GatewayStatus.UNDEFINED, f"http_{response.status_code}",
                               f"{url} answered HTTP {response.status_code}")
        return WireResponse(response.status_code, response.text, response.headers.get("content-type", ""))

    async def get(self, url: str, *, params: Mapping[str, str] | None = None) -> str | GatewayResult:
        """GET a text document; a failure comes back as a result to pass on."""
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, transport=self.transport) as client:
                response = await client.get(url, params=dict(params or {}))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol,
                httpx.InvalidURL) as exc:
            return WireFailure(GatewayStatus.UNDEFINED, "connection_failed", f"could not reach {url}: {exc!r}").result(
                Operation.STATUS, "")
        except httpx.TimeoutException:
            return WireFailure(GatewayStatus.UNDEFINED, "timeout",
                               f"no answer from {url} within {self.timeout_s}s").result(Operation.STATUS, "")
        except httpx.HTTPError as exc:
            return WireFailure(GatewayStatus.UNDEFINED, "transport_error", f"{url}: {exc!r}").result(
                Operation.STATUS, "")
        if response.status_code != 200:
            return WireFailure(GatewayStatus.UNDEFINED, f"http_{response.status_code}",
                               f"{url} answered HTTP {response.status_code}").result(Operation.STATUS, "")
        return response.text

    async def post_json(self, url: str, body: Any) -> dict[str, Any] | WireFailure:
        """POST JSON and read a JSON object back (a non-object answer is UNDEFINED)."""
        answer = await self.post(url, json_body=body)
        if isinstance(answer, WireFailure):
            return answer
        data = answer.json()
        if data is None:
            return WireFailure(GatewayStatus.UNDEFINED, "unreadable_answer",
                               f"{url} answered HTTP {answer.status_code} with something that is not JSON")
        if not isinstance(data, dict):
            return WireFailure(GatewayStatus.UNDEFINED, "unreadable_answer", f"{url} answered JSON that is not an object")
        return data
