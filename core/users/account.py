"""The customer's money: balances per currency and each account's history, from the ledger.

A user's ledger owner is ``user:<id>``. A statement is shown only for an account that
owner holds: another user's account id answers 404, exactly like one that does not
exist. Should the ledger service not be running, the pages still load and say that
balances are not available.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from uuid import UUID

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, Parameter
from litestar.response import Template

from core.access import identity_of, requires_login
from core.access.inputs import MAX_BIGINT
from core.ledger import Ledger
from core.web.i18n import gettext as _
from core.web.templating import render


def ledger_of(platform: Any) -> Ledger | None:
    """The ledger service, or None when it is not running (the pages then say so)."""
    return platform.service(Ledger) if platform.has_service(Ledger) else None


def owner_of(user_id: UUID | None) -> str:
    return f"user:{user_id}"


async def balances(platform: Any, user_id: UUID) -> list[Any] | None:
    ledger = ledger_of(platform)
    if ledger is None:
        return None
    return list(await ledger.owner_balances(owner_of(user_id)))


def totals_by_currency(found: list[Any]) -> list[dict[str, Any]]:
    """Posted, pending and available money per currency, over all the user's accounts."""
    sums: dict[str, dict[str, int]] = defaultdict(lambda: {"posted": 0, "pending": 0, "available": 0})
    for balance in found:
        for key in ("posted", "pending", "available"):
            sums[balance.currency][key] += int(getattr(balance, key))
    return [{"currency": currency, **values} for currency, values in sorted(sums.items())]


async def owned_account(platform: Any, user_id: UUID, account_id: int) -> Any:
    """The ledger account ``account_id`` if ``user_id`` owns it; 404 otherwise (never 403: no probing)."""
    ledger = ledger_of(platform)
    if ledger is None:
        raise NotFoundException(_("balances are not available on this site"))
    if not 0 < account_id <= MAX_BIGINT:
        raise NotFoundException(_("you have no account %(id)s", id=account_id))
    account = await ledger.get_account(account_id)
    if account is None or account.owner != owner_of(user_id):
        raise NotFoundException(_("you have no account %(id)s", id=account_id))
    return account


def line_view(line: Any) -> dict[str, Any]:
    totals = getattr(line, "totals_after", None)
    return {
        "transfer_id": str(line.transfer_id),
        "value_date": line.value_date.isoformat(),
        "recorded_at": line.recorded_at.isoformat(),
        "code": line.code,
        "amount": int(line.amount),
        "balance": int(totals.posted) if totals is not None else None,
        "metadata": dict(line.metadata or {}),
    }


@get("/account", name="users.account", include_in_schema=False, guards=[requires_login])
async def account_page(request: Request[Any, Any, Any]) -> Template:
    platform = request.app.state.platform
    found = await balances(platform, identity_of(request).user_id)  # type: ignore[arg-type]
    return render(
        request,
        "users/account.html",
        available=found is not None,
        accounts=found or [],
        totals=totals_by_currency(found or []),
        currency=platform.core.platform.currency,
    )


@get("/account/history/{account_id:int}", include_in_schema=False, guards=[requires_login])
async def history_page(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Template:
    platform = request.app.state.platform
    account = await owned_account(platform, identity_of(request).user_id, account_id)  # type: ignore[arg-type]
    before = request.query_params.get("before") or None
    try:
        page = await ledger_of(platform).statement(account_id, before=before, limit=25)
    except ValueError:
        raise NotFoundException(_("this page of the history does not exist; start from the newest")) from None
    return render(
        request,
        "users/history.html",
        account=account,
        lines=[line_view(x) for x in page.lines],
        next_cursor=page.next_cursor,
        first_page=before is None,
    )


@get(
    "/api/v1/users/me/balances",
    tags=["users"],
    summary="My balances, per account and per currency",
    guards=[requires_login],
)
async def api_balances(request: Request[Any, Any, Any]) -> dict[str, Any]:
    found = await balances(request.app.state.platform, identity_of(request).user_id)  # type: ignore[arg-type]
    if found is None:
        return {"available": False, "accounts": [], "totals": []}
    accounts = [
        {
            "account_id": b.account_id,
            "currency": b.currency,
            "purpose": b.purpose,
            "posted": int(b.posted),
            "pending": int(b.pending),
            "available": int(b.available),
        }
        for b in found
    ]
    return {"available": True, "accounts": accounts, "totals": totals_by_currency(found)}


@get(
    "/api/v1/users/me/accounts/{account_id:int}/statement",
    tags=["users"],
    summary="The history of one of my accounts, newest first",
    guards=[requires_login],
)
async def api_statement(
    request: Request[Any, Any, Any],
    account_id: FromPath[int],
    before: Annotated[str | None, Parameter(max_length=200)] = None,
    limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    platform = request.app.state.platform
    await owned_account(platform, identity_of(request).user_id, account_id)  # type: ignore[arg-type]
    try:
        page = await ledger_of(platform).statement(account_id, before=before, limit=limit)
    except ValueError as exc:
        from litestar.exceptions import ValidationException

        raise ValidationException(f"before: {exc}") from None
    return {
        "account_id": account_id,
        "lines": [line_view(x) for x in page.lines],
        "next_cursor": page.next_cursor,
    }


ROUTES = [account_page, history_page, api_balances, api_statement]
