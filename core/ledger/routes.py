"""JSON endpoints for admins and integrators under ``/api/v1/admin/ledger``.

Reading needs ``ledger.view``; opening and changing accounts ``ledger.accounts``; submitting
transfers ``ledger.transfer``. Malformed input gets a 400 naming the field; a business
rejection of a transfer is not an HTTP error but that transfer's result code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Router, get, patch, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Stream
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from core.access import requires
from core.access.inputs import moment_in_utc
from core.ledger.model import (
    Account,
    AccountBalance,
    AccountFlags,
    NewTransfer,
    PostPending,
    Reversal,
    VoidPending,
)
from core.ledger.reading import BadCursor
from core.ledger.service import Ledger

MAX_ID = 2**63 - 1


def _exactly(kind: type) -> Any:
    """Refuse "100" for 100 and 1.0 for 1: litestar validates leniently, money must not be guessed."""

    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise ValueError(f"must be a JSON {'integer' if kind is int else 'boolean'}, not {value!r}")
        return value

    return BeforeValidator(check)


Int = Annotated[int, _exactly(int)]
Bool = Annotated[bool, _exactly(bool)]
Amount = Annotated[Int, Field(gt=0, le=MAX_ID)]
Limit = Annotated[Int, Field(ge=0, le=MAX_ID)]
AccountId = Annotated[Int, Field(gt=0, le=MAX_ID)]
Metadata = dict[str, Any]


def _ledger(request: Request[Any, Any, Any]) -> Ledger:
    return request.app.state.platform.service(Ledger)


def _account_json(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "currency": account.currency,
        "owner": account.owner,
        "purpose": account.purpose,
        "flags": account.flags.names(),
        "debits_limit": account.debits_limit,
        "credits_limit": account.credits_limit,
        "metadata": account.metadata,
        "created_at": account.created_at.isoformat(),
        **_balance_fields(account.balance),
    }


def _balance_fields(balance: AccountBalance) -> dict[str, Any]:
    return {
        "posted": balance.posted,
        "pending": balance.pending,
        "available": balance.available,
        **balance.totals._asdict(),
    }


def _balance_json(balance: AccountBalance) -> dict[str, Any]:
    return {
        "account_id": balance.account_id,
        "currency": balance.currency,
        "owner": balance.owner,
        "purpose": balance.purpose,
        "as_of": balance.as_of.isoformat() if balance.as_of else None,
        **_balance_fields(balance),
    }


def _check_id(account_id: int) -> None:
    if not 0 < account_id <= MAX_ID:
        raise NotFoundException(f"no ledger account {account_id}")


class OpenAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str = Field(min_length=1, max_length=200, examples=["user:6f1c...", "platform"])
    purpose: str = Field(min_length=1, max_length=100, examples=["wallet"])
    currency: str = Field(min_length=2, max_length=32, examples=["RUB"])
    flags: list[Literal["debits_must_not_exceed_credits", "credits_must_not_exceed_debits"]] = []
    debits_limit: Limit | None = None
    credits_limit: Limit | None = None
    metadata: Metadata | None = None


class ChangeAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")

    debits_limit: Limit | None = None
    credits_limit: Limit | None = None
    closed: Bool | None = None


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    code: str | None = Field(None, max_length=64)
    metadata: Metadata | None = None
    value_date: dt.date | None = None
    linked: Bool = False


class TransferItem(_Item):
    type: Literal["transfer"]
    debit_account_id: AccountId
    credit_account_id: AccountId
    amount: Amount
    currency: str | None = Field(None, max_length=32)
    pending: Bool = False
    timeout_s: Int | None = None

    def request(self) -> NewTransfer:
        return NewTransfer(
            id=self.id,
            debit_account_id=self.debit_account_id,
            credit_account_id=self.credit_account_id,
            amount=self.amount,
            code=self.code or "",
            metadata=self.metadata,
            value_date=self.value_date,
            currency=self.currency,
            pending=self.pending,
            timeout_s=self.timeout_s,
            linked=self.linked,
        )


class PostItem(_Item):
    type: Literal["post_pending"]
    pending_id: uuid.UUID
    amount: Amount | None = None

    def request(self) -> PostPending:
        return PostPending(
            id=self.id,
            pending_id=self.pending_id,
            amount=self.amount,
            code=self.code,
            metadata=self.metadata,
            value_date=self.value_date,
            linked=self.linked,
        )


class VoidItem(_Item):
    type: Literal["void_pending"]
    pending_id: uuid.UUID

    def request(self) -> VoidPending:
        return VoidPending(
            id=self.id,
            pending_id=self.pending_id,
            code=self.code,
            metadata=self.metadata,
            value_date=self.value_date,
            linked=self.linked,
        )


class ReversalItem(_Item):
    type: Literal["reversal"]
    original_id: uuid.UUID
    amount: Amount | None = None

    def request(self) -> Reversal:
        return Reversal(
            id=self.id,
            original_id=self.original_id,
            amount=self.amount,
            code=self.code,
            metadata=self.metadata,
            value_date=self.value_date,
            linked=self.linked,
        )


class SubmitTransfers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfers: list[
        Annotated[TransferItem | PostItem | VoidItem | ReversalItem, Field(discriminator="type")]
    ] = Field(min_length=1, max_length=8190)
    #: All or nothing: link every transfer into one chain.
    atomic: Bool = False


class LedgerAdminController(Controller):
    path = "/"
    tags = ["ledger"]

    @get("/ledgers", guards=[requires("ledger.view")], summary="Currencies and assets with their scale")
    async def list_ledgers(self, request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        return [{"code": info.code, "scale": info.scale} for info in await _ledger(request).ledgers()]

    @get("/accounts", guards=[requires("ledger.view")], summary="Accounts, filtered, in id order")
    async def list_accounts(
        self,
        request: Request[Any, Any, Any],
        owner: FromQuery[str | None] = None,
        currency: FromQuery[str | None] = None,
        purpose: FromQuery[str | None] = None,
        after_id: Annotated[int, QueryParameter(ge=0, le=MAX_ID)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        accounts = await _ledger(request).accounts(
            owner=owner, currency=currency, purpose=purpose, after_id=after_id, limit=limit
        )
        return {
            "accounts": [_account_json(a) for a in accounts],
            "next_after_id": accounts[-1].id if len(accounts) == limit else None,
        }

    @post(
        "/accounts",
        guards=[requires("ledger.accounts")],
        status_code=201,
        summary="Open an account (returns the existing one for the same owner, purpose and currency)",
    )
    async def open_account(
        self, request: Request[Any, Any, Any], data: JSONBody[OpenAccount]
    ) -> dict[str, Any]:
        from core.ledger.catalog import UnknownLedger

        try:
            account = await _ledger(request).open_account(
                owner=data.owner,
                purpose=data.purpose,
                currency=data.currency,
                flags=AccountFlags.parse(data.flags),
                debits_limit=data.debits_limit,
                credits_limit=data.credits_limit,
                metadata=data.metadata,
            )
        except UnknownLedger as exc:
            raise ValidationException(f"currency: {exc}") from None
        except ValueError as exc:
            raise ValidationException(str(exc)) from None
        return _account_json(account)

    @get(
        "/accounts/{account_id:int}",
        guards=[requires("ledger.view")],
        summary="One account with its balances",
    )
    async def get_account(self, request: Request[Any, Any, Any], account_id: FromPath[int]) -> dict[str, Any]:
        _check_id(account_id)
        account = await _ledger(request).get_account(account_id)
        if account is None:
            raise NotFoundException(f"no ledger account {account_id}")
        return _account_json(account)

    @patch(
        "/accounts/{account_id:int}",
        guards=[requires("ledger.accounts")],
        summary="Change limits (null removes one) or close / reopen",
    )
    async def change_account(
        self, request: Request[Any, Any, Any], account_id: FromPath[int], data: JSONBody[ChangeAccount]
    ) -> dict[str, Any]:
        _check_id(account_id)
        ledger = _ledger(request)
        given = data.model_fields_set
        account = await ledger.get_account(account_id)
        if account is None:
            raise NotFoundException(f"no ledger account {account_id}")
        if "debits_limit" in given or "credits_limit" in given:
            account = await ledger.set_limits(
                account_id,
                debits_limit=data.debits_limit if "debits_limit" in given else account.debits_limit,
                credits_limit=data.credits_limit if "credits_limit" in given else account.credits_limit,
            )
        if data.closed is True:
            account = await ledger.close_account(account_id)
        elif data.closed is False:
            account = await ledger.reopen_account(account_id)
        assert account is not None
        return _account_json(account)

    @get(
        "/accounts/{account_id:int}/balance",
        guards=[requires("ledger.view")],
        summary="Balances now, or at a past moment (?at=ISO 8601 with a time zone)",
    )
    async def get_balance(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[int],
        at: FromQuery[dt.datetime | None] = None,
    ) -> dict[str, Any]:
        _check_id(account_id)
        if at is not None and at.tzinfo is None:
            raise ValidationException("at: give a time zone, e.g. 2026-01-31T23:59:59+03:00")
        balance = await _ledger(request).balance(account_id, at=moment_in_utc(at) if at is not None else None)
        if balance is None:
            raise NotFoundException(f"no ledger account {account_id}")
        return _balance_json(balance)

    @get(
        "/accounts/{account_id:int}/statement",
        guards=[requires("ledger.view")],
        summary="Statement lines, newest first, with the balance after each; page with ?before=next_cursor",
    )
    async def get_statement(
        self,
        request: Request[Any, Any, Any],
        account_id: FromPath[int],
        before: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 50,
    ) -> dict[str, Any]:
        _check_id(account_id)
        ledger = _ledger(request)
        account = await ledger.get_account(account_id)
        if account is None:
            raise NotFoundException(f"no ledger account {account_id}")
        try:
            page = await ledger.statement(account_id, before=before, limit=limit)
        except BadCursor as exc:
            raise ValidationException(f"before: {exc}") from None
        return {
            "account": _account_json(account),
            "lines": [line.as_json() for line in page.lines],
            "next_cursor": page.next_cursor,
        }

    @get("/balances", guards=[requires("ledger.view")], summary="Every account of an owner with its balances")
    async def get_owner_balances(
        self, request: Request[Any, Any, Any], owner: FromQuery[str]
    ) -> list[dict[str, Any]]:
        return [_balance_json(b) for b in await _ledger(request).owner_balances(owner)]

    @get("/transfers/{transfer_id:uuid}", guards=[requires("ledger.view")], summary="One transfer")
    async def get_transfer(
        self, request: Request[Any, Any, Any], transfer_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        transfer = await _ledger(request).get_transfer(transfer_id)
        if transfer is None:
            raise NotFoundException(f"no transfer {transfer_id}")
        return transfer.as_json()

    @post(
        "/transfers",
        guards=[requires("ledger.transfer")],
        status_code=200,
        summary="Submit transfers; each gets a result code (ok, exists, exceeds_credits, ...)",
    )
    async def submit_transfers(
        self, request: Request[Any, Any, Any], data: JSONBody[SubmitTransfers]
    ) -> dict[str, Any]:
        requests = [item.request() for item in data.transfers]
        results = await _ledger(request).submit(requests, atomic=data.atomic)
        return {"results": [result.as_json() for result in results]}

    @get(
        "/trial-balance", guards=[requires("ledger.view")], summary="Totals per account purpose of one ledger"
    )
    async def get_trial_balance(
        self, request: Request[Any, Any, Any], currency: FromQuery[str]
    ) -> dict[str, Any]:
        trial = await _ledger(request).trial_balance(currency)
        if trial is None:
            raise NotFoundException(f"no ledger for {currency!r}")
        return {
            "currency": trial.currency,
            "scale": trial.scale,
            "balanced": trial.balanced,
            "rows": [
                {
                    "purpose": r.purpose,
                    "accounts": r.accounts,
                    "debits_posted": r.debits_posted,
                    "credits_posted": r.credits_posted,
                    "balance": r.balance,
                    "debits_pending": r.debits_pending,
                    "credits_pending": r.credits_pending,
                }
                for r in trial.rows
            ],
            "totals": {
                "debits_posted": trial.debits_posted,
                "credits_posted": trial.credits_posted,
                "debits_pending": trial.debits_pending,
                "credits_pending": trial.credits_pending,
            },
        }

    @get("/trial-balance.csv", guards=[requires("ledger.view")], summary="Every account of one ledger as CSV")
    async def get_trial_balance_csv(
        self, request: Request[Any, Any, Any], currency: FromQuery[str]
    ) -> Stream:
        ledger = _ledger(request)
        if await ledger.trial_balance(currency) is None:
            raise NotFoundException(f"no ledger for {currency!r}")
        return Stream(
            ledger.trial_balance_csv(currency),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="trial-balance-{currency}.csv"'},
        )


ledger_admin_api = Router(path="/api/v1/admin/ledger", route_handlers=[LedgerAdminController])
