"""What the ledger stores and answers: accounts, transfers, requests, results, balances.

Amounts are integers in minor units of their ledger's currency or asset. The balance of
an account is seen from the account's side: ``credits - debits``. A transfer from A to
B debits A and credits B, so money "moves from A to B"; a platform's cash account goes
negative as customers' wallets fill up, and the sum of every balance in a ledger is zero.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

# -- accounts ---------------------------------------------------------------------------


class AccountFlags(enum.IntFlag):
    """Rules an account enforces on every transfer (TigerBeetle's account flags)."""

    NONE = 0
    #: ``debits_posted + debits_pending`` may never exceed ``credits_posted``: no overdraft.
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    #: ``credits_posted + credits_pending`` may never exceed ``debits_posted``.
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2
    #: No new transfers in or out; pending transfers can still be voided or expire.
    CLOSED = 4

    @classmethod
    def parse(cls, names: list[str] | tuple[str, ...]) -> AccountFlags:
        """Flags from their lower-case names (``["debits_must_not_exceed_credits"]``)."""
        flags = cls.NONE
        for name in names:
            try:
                flags |= cls[name.upper()]
            except KeyError:
                known = ", ".join(f.name.lower() for f in cls if f.name and f is not cls.NONE)
                raise ValueError(f"unknown account flag {name!r}; known: {known}") from None
        return flags

    def names(self) -> list[str]:
        return [f.name.lower() for f in AccountFlags if f.value and f in self and f.name]


class Totals(NamedTuple):
    """The four running totals of an account (TigerBeetle's balance fields)."""

    debits_posted: int = 0
    credits_posted: int = 0
    debits_pending: int = 0
    credits_pending: int = 0

    @property
    def posted(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def pending(self) -> int:
        return self.credits_pending - self.debits_pending

    @property
    def available(self) -> int:
        # Held outgoing money is already spoken for; held incoming money is not here yet.
        return self.credits_posted - self.debits_posted - self.debits_pending


ZERO = Totals()


@dataclass(frozen=True, slots=True)
class LedgerInfo:
    """One ledger: a currency or asset and its scale (digits after the decimal point)."""

    id: int
    code: str
    scale: int


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    currency: str
    owner: str
    purpose: str
    flags: AccountFlags
    #: The most the account's debits may exceed its credits (pending debits included); None: no limit.
    debits_limit: int | None
    #: The most the account's credits may exceed its debits (pending credits included); None: no limit.
    credits_limit: int | None
    totals: Totals
    metadata: dict[str, Any]
    created_at: dt.datetime

    @property
    def closed(self) -> bool:
        return AccountFlags.CLOSED in self.flags

    @property
    def balance(self) -> AccountBalance:
        return AccountBalance.of(self, self.totals)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """An account's balances, now or as of ``as_of``: posted, net pending and available."""

    account_id: int
    currency: str
    owner: str
    purpose: str
    posted: int
    pending: int
    available: int
    totals: Totals
    as_of: dt.datetime | None = None

    @classmethod
    def of(cls, account: Account, totals: Totals, as_of: dt.datetime | None = None) -> AccountBalance:
        return cls(
            account.id,
            account.currency,
            account.owner,
            account.purpose,
            totals.posted,
            totals.pending,
            totals.available,
            totals,
            as_of,
        )


# -- transfers ----------------------------------------------------------------------------


class TransferKind(enum.IntEnum):
    """What a transfer does; stored as a small integer."""

    #: Moves ``amount`` at once.
    POSTED = 0
    #: Holds ``amount``: counted against limits, not yet moved.
    PENDING = 1
    #: Moves (part of) a pending transfer's amount and releases the hold.
    POST = 2
    #: Releases a pending transfer's hold without moving anything.
    VOID = 3
    #: A void done by the ledger when the pending transfer's timeout passed.
    EXPIRE = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Transfer(NamedTuple):
    """A committed transfer. Immutable; corrections are new transfers (reversals).

    A named tuple: the group commit makes tens of thousands a second.
    """

    id: uuid.UUID
    #: Unique number; orders transfers of one account together with ``recorded_at``.
    seq: int
    currency: str
    kind: TransferKind
    debit_account_id: int
    credit_account_id: int
    #: Posted: moved. Pending: held. Post: moved out of the hold. Void/expire: released.
    amount: int
    code: str
    metadata: dict[str, Any]
    #: The business date the money moved on (defaults to the platform's business date).
    value_date: dt.date
    #: When the ledger applied it (database clock; strictly increasing per account).
    recorded_at: dt.datetime
    #: For post/void/expire: the pending transfer resolved.
    pending_id: uuid.UUID | None = None
    #: For reversals: the transfer reversed.
    reverses_id: uuid.UUID | None = None
    #: For pending transfers: seconds until the hold expires (None: never).
    timeout_s: int | None = None
    #: Running totals of both accounts right after this transfer.
    debit_totals: Totals = ZERO
    credit_totals: Totals = ZERO

    @property
    def expires_at(self) -> dt.datetime | None:
        if self.kind is not TransferKind.PENDING or self.timeout_s is None:
            return None
        return self.recorded_at + dt.timedelta(seconds=self.timeout_s)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "seq": self.seq,
            "currency": self.currency,
            "kind": self.kind.label,
            "debit_account_id": self.debit_account_id,
            "credit_account_id": self.credit_account_id,
            "amount": self.amount,
            "code": self.code,
            "metadata": self.metadata,
            "value_date": self.value_date.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "pending_id": str(self.pending_id) if self.pending_id else None,
            "reverses_id": str(self.reverses_id) if self.reverses_id else None,
            "timeout_s": self.timeout_s,
            "debit_totals": self.debit_totals._asdict(),
            "credit_totals": self.credit_totals._asdict(),
        }


# -- requests -------------------------------------------------------------------------------
#
# What callers submit. ``id`` is the idempotency key: submitting the same id again never
# moves money twice, it answers ``exists`` (or ``exists_with_different_fields``). Make ids
# from business keys with ``transfer_id("payments", "topup", payment_id)``. ``linked=True``
# chains a request to the next one: they succeed or fail together.


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTransfer:
    """Move ``amount`` from ``debit_account_id`` to ``credit_account_id``, or hold it (``pending``)."""

    op: ClassVar[TransferKind] = TransferKind.POSTED
    id: uuid.UUID
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str = ""
    metadata: dict[str, Any] | None = None
    value_date: dt.date | None = None
    #: When given, the accounts must be on this currency's ledger (a guard against mix-ups).
    currency: str | None = None
    #: Hold the amount instead of moving it; resolve later with PostPending or VoidPending.
    pending: bool = False
    #: For pending transfers: release the hold automatically after this many seconds.
    timeout_s: int | None = None
    linked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PostPending:
    """Move a pending transfer's amount (or less: the rest goes back) and end its hold."""

    op: ClassVar[TransferKind] = TransferKind.POST
    id: uuid.UUID
    pending_id: uuid.UUID
    #: None posts the full pending amount.
    amount: int | None = None
    #: None keeps the pending transfer's code.
    code: str | None = None
    metadata: dict[str, Any] | None = None
    value_date: dt.date | None = None
    linked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VoidPending:
    """End a pending transfer's hold without moving anything."""

    op: ClassVar[TransferKind] = TransferKind.VOID
    id: uuid.UUID
    pending_id: uuid.UUID
    code: str | None = None
    metadata: dict[str, Any] | None = None
    value_date: dt.date | None = None
    linked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpirePending:
    """What the ledger's timeout task submits; callers void instead."""

    op: ClassVar[TransferKind] = TransferKind.EXPIRE
    id: uuid.UUID
    pending_id: uuid.UUID
    code: str | None = None
    metadata: dict[str, Any] | None = None
    value_date: dt.date | None = None
    linked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Reversal:
    """Send (part of) a posted transfer back; a transfer can be reversed once."""

    op: ClassVar[TransferKind] = TransferKind.POSTED
    id: uuid.UUID
    original_id: uuid.UUID
    #: None reverses the full amount.
    amount: int | None = None
    #: None keeps the original's code.
    code: str | None = None
    metadata: dict[str, Any] | None = None
    value_date: dt.date | None = None
    linked: bool = False


Request = NewTransfer | PostPending | VoidPending | ExpirePending | Reversal


# -- results ----------------------------------------------------------------------------------


class ResultCode(enum.StrEnum):
    """The outcome of one request in a batch. Only ``ok`` and ``exists`` mean "it is in the ledger"."""

    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    ID_MUST_NOT_BE_ZERO = "id_must_not_be_zero"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    INVALID_FIELD = "invalid_field"
    ACCOUNT_NOT_FOUND = "account_not_found"
    LEDGER_MISMATCH = "ledger_mismatch"
    ACCOUNT_CLOSED = "account_closed"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    OVERFLOW = "overflow"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_ALREADY_RESOLVED = "pending_already_resolved"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    PENDING_TRANSFER_NOT_EXPIRED = "pending_transfer_not_expired"
    EXCEEDS_PENDING_AMOUNT = "exceeds_pending_amount"
    TRANSFER_NOT_FOUND = "transfer_not_found"
    TRANSFER_NOT_REVERSIBLE = "transfer_not_reversible"
    ALREADY_REVERSED = "already_reversed"
    EXCEEDS_ORIGINAL_AMOUNT = "exceeds_original_amount"


_new_object = object.__new__


class TransferResult:
    """The outcome of one request.

    ``transfer`` is the transfer as stored: the new one for ``ok``, the earlier one for
    ``exists`` and ``exists_with_different_fields``, None otherwise. It is built when first
    read: most callers only look at ``code`` and the group commit answers thousands a second.
    """

    __slots__ = ("_batch", "_row", "_transfer", "code", "detail", "id")

    def __init__(
        self,
        id: uuid.UUID,
        code: ResultCode,
        transfer: Transfer | None = None,
        detail: str = "",
        *,
        source: Any = None,
    ) -> None:
        self.id = id
        self.code = code
        #: What was wrong, for people (which account, which fields, which limit).
        self.detail = detail
        self._transfer = transfer
        #: ``(batch, row)``: where to build ``transfer`` from when it is first read.
        self._batch, self._row = source if source is not None else (None, 0)

    @classmethod
    def made(cls, id: uuid.UUID, code: ResultCode, detail: str, batch: Any, row: int) -> TransferResult:
        """A result whose transfer is row ``row`` of ``batch`` (built when first read).

        The group commit answers tens of thousands of requests a second: this skips the
        keyword handling of ``__init__``.
        """
        result = _new_object(cls)
        result.id = id
        result.code = code
        result.detail = detail
        result._transfer = None
        result._batch = batch
        result._row = row
        return result

    @property
    def transfer(self) -> Transfer | None:
        if self._transfer is None and self._batch is not None:
            self._transfer, self._batch = self._batch.transfer_at(self._row), None
        return self._transfer

    @property
    def accepted(self) -> bool:
        """True when the transfer is in the ledger: created now or by an earlier identical request."""
        return self.code is ResultCode.OK or self.code is ResultCode.EXISTS

    @property
    def created(self) -> bool:
        return self.code is ResultCode.OK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TransferResult):
            return NotImplemented
        return (self.id, self.code, self.detail, self.transfer) == (
            other.id,
            other.code,
            other.detail,
            other.transfer,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TransferResult(id={self.id!r}, code={self.code.value!r}, detail={self.detail!r})"

    def as_json(self) -> dict[str, Any]:
        transfer = self.transfer
        return {
            "id": str(self.id),
            "result": self.code.value,
            "detail": self.detail,
            "transfer": transfer.as_json() if transfer else None,
        }


# -- statements ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    transfer_id: uuid.UUID
    seq: int
    kind: TransferKind
    code: str
    value_date: dt.date
    recorded_at: dt.datetime
    #: Signed from the account's side: + when it was credited, - when it was debited.
    amount: int
    counterparty_account_id: int
    #: The account's totals right after this line.
    totals_after: Totals
    metadata: dict[str, Any]
    pending_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None

    @property
    def balance_after(self) -> int:
        return self.totals_after.posted

    def as_json(self) -> dict[str, Any]:
        return {
            "transfer_id": str(self.transfer_id),
            "seq": self.seq,
            "kind": self.kind.label,
            "code": self.code,
            "value_date": self.value_date.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "amount": self.amount,
            "counterparty_account_id": self.counterparty_account_id,
            "balance_after": self.totals_after.posted,
            "pending_after": self.totals_after.pending,
            "available_after": self.totals_after.available,
            "metadata": self.metadata,
            "pending_id": str(self.pending_id) if self.pending_id else None,
            "reverses_id": str(self.reverses_id) if self.reverses_id else None,
        }


@dataclass(frozen=True, slots=True)
class StatementPage:
    account_id: int
    #: Newest first.
    lines: list[StatementLine]
    #: Pass as ``before=`` to get the next (older) page; None on the last page.
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TrialBalanceRow:
    purpose: str
    accounts: int
    debits_posted: int
    credits_posted: int
    debits_pending: int
    credits_pending: int

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted


@dataclass(frozen=True, slots=True)
class TrialBalance:
    currency: str
    scale: int
    rows: list[TrialBalanceRow] = field(default_factory=list)

    @property
    def debits_posted(self) -> int:
        return sum(r.debits_posted for r in self.rows)

    @property
    def credits_posted(self) -> int:
        return sum(r.credits_posted for r in self.rows)

    @property
    def debits_pending(self) -> int:
        return sum(r.debits_pending for r in self.rows)

    @property
    def credits_pending(self) -> int:
        return sum(r.credits_pending for r in self.rows)

    @property
    def balanced(self) -> bool:
        return self.debits_posted == self.credits_posted and self.debits_pending == self.credits_pending
