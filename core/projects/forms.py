"""Reading what people type: amounts, dates and ids from forms and JSON, with errors that say where.

Shared by the pages and the API of ``core.projects`` and of product plugins (crowdinvesting),
so an amount is read the same way everywhere: a decimal string in the project's currency,
converted exactly to minor units or refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Request, Response, post
from litestar.response import Redirect

from core.money import MoneyError, from_minor, to_minor
from core.projects.errors import Invalid
from core.projects.service import Upload
from core.web.i18n import gettext as _
from core.web.i18n import money

#: The largest amount accepted, in minor units: beyond any real investment or budget, and far enough below
#: PostgreSQL's bigint that sums of many such amounts still fit (a bigger one failed in the database: a 500).
MAX_AMOUNT_MINOR = 10**15
#: Moments outside these years are refused (year 1 or 9999 overflowed on conversion to UTC).
YEARS = range(1900, 9999)


def amount_minor(value: Any, currency: str, field: str, *, allow_zero: bool = False) -> int:
    """``"1 500,50"`` or ``"1500.50"`` in ``currency`` to minor units, exactly."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Invalid(_("enter an amount"), field=field)
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(text) if text else text
        too_large = isinstance(number, Decimal) and number.is_finite() and number > from_minor(MAX_AMOUNT_MINOR,
                                                                                               currency)
        minor = None if too_large else to_minor(number, currency)
    except (MoneyError, ArithmeticError, ValueError):
        raise Invalid(_("%(value)s is not an amount in %(currency)s (at most two decimal places)", value=value,
                        currency=currency), field=field) from None
    if minor is None:  # checked before converting: a huge exponent costs time to become an int
        raise Invalid(_("%(value)s is too large: at most %(max)s", value=value, max=money(MAX_AMOUNT_MINOR, currency)),
                      field=field)
    if minor < 0 or (minor == 0 and not allow_zero):
        raise Invalid(_("the amount must be positive"), field=field)
    return minor


def uuid_of(value: Any, field: str) -> UUID:
    try:
        return value if isinstance(value, UUID) else UUID(str(value).strip())
    except (ValueError, AttributeError):
        raise Invalid(f"{value!r} is not an id", field=field) from None


def date_of(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise Invalid(f"{value!r} is not a date (YYYY-MM-DD)", field=field) from None


def moment_of(value: Any, field: str, timezone: str) -> dt.datetime | None:
    """A form's date means the end of that day in the platform's time zone; an ISO time must carry its zone."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value).strip()
        if len(text) == 10:
            day = date_of(text, field)
            if day.year not in YEARS:
                raise Invalid(f"{value!r} is not a date between {YEARS[0]} and {YEARS[-1]}", field=field)
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), ZoneInfo(timezone))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise Invalid(f"{value!r} is not a date or an ISO time", field=field) from None
    if moment.tzinfo is None:
        raise Invalid("give the time with its time zone, e.g. 2026-12-31T18:00:00+03:00", field=field)
    if moment.year not in YEARS:
        raise Invalid(f"{value!r} is not a time between {YEARS[0]} and {YEARS[-1]}", field=field)
    return moment


def flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


async def form_of(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], list[Upload]]:
    """A urlencoded or multipart form: its fields (last value wins) and its uploaded files."""
    form = await request.form()
    fields: dict[str, Any] = {}
    uploads: list[Upload] = []
    for key, value in form.multi_items():
        if hasattr(value, "read") and hasattr(value, "filename"):
            data = await value.read()
            if data or value.filename:
                uploads.append(Upload(data, value.filename or "document"))
        else:
            fields[key] = value
    return fields, uploads


async def read_input(request: Request[Any, Any, Any]) -> tuple[dict[str, Any], list[Upload]]:
    """A request's input, whether a JSON object, a urlencoded form or a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields, uploads = await form_of(request)
        return _without_nul(fields), uploads
    body = await request.body()
    if not body.strip():
        return {}, []
    try:
        data = await request.json()
    except Exception:
        raise Invalid("the body is not valid JSON", field="body") from None
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object", field="body")
    return _without_nul(data), []


def _without_nul(fields: dict[str, Any]) -> dict[str, Any]:
    """PostgreSQL cannot store the NUL character in text: refuse it here, naming the field, not fail there."""
    for key, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(_("must not contain the NUL character"), field=str(key))
    return fields


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


#: An action's work: the request and its fields in, the JSON answer and the page to go back to out.
ActionFn = Callable[[Request[Any, Any, Any], dict[str, Any]], Awaitable[tuple[Any, str]]]


def action(page_path: str, api_path: str, fn: ActionFn, *, name: str, guards: list[Any], summary: str,
           tags: list[str], status_code: int = 200) -> Any:
    """One action served twice: a form post at ``page_path`` (then a redirect to the page ``fn``
    names) and a JSON call at ``api_path`` (its answer), reading the input the same way."""

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        fields, _uploads = await read_input(request)
        body, next_url = await fn(request, fields)
        if is_api(request):
            return Response(body, status_code=status_code)
        return Redirect(next_url, status_code=303)

    handler.__name__ = name
    return post([page_path, api_path], guards=guards, summary=summary, tags=tags, name=name,
                status_code=status_code)(handler)
