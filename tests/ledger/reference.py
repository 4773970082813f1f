"""An in-memory reference model of the ledger's rules (TigerBeetle's auditor, in miniature).

Written from the README's rules, not from ``core.ledger.apply``: plain dicts, whole-state
snapshots for linked chains instead of an undo journal, no database. The stateful test
feeds the same requests to both and demands the same result codes and balances.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

from core.ledger import AccountFlags, NewTransfer, PostPending, ResultCode, Reversal, VoidPending
from core.ledger.model import ExpirePending

R = ResultCode
MAX = 2**63 - 1


@dataclass(frozen=True)
class MAccount:
    currency: str
    flags: int
    debits_limit: int | None
    credits_limit: int | None
    dp: int = 0
    cp: int = 0
    dpe: int = 0
    cpe: int = 0


@dataclass(frozen=True)
class MTransfer:
    kind: str  # posted, pending, post, void, expire
    debit: int
    credit: int
    amount: int
    code: str
    meta: str
    value_date: dt.date
    currency: str
    timeout_s: int | None = None
    pending_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None


def meta_text(meta: dict[str, Any] | None) -> str:
    return json.dumps(meta or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(v) for v in value.values())
    if isinstance(value, list):
        return any(has_float(v) for v in value)
    return False


class Model:
    def __init__(self, business_date: dt.date) -> None:
        self.business_date = business_date
        self.accounts: dict[int, MAccount] = {}
        self.transfers: dict[uuid.UUID, MTransfer] = {}
        #: Open pending transfers.
        self.open: set[uuid.UUID] = set()
        self.reversed: set[uuid.UUID] = set()

    # -- state ---------------------------------------------------------------------------

    def snapshot(self) -> tuple[Any, ...]:
        return dict(self.accounts), dict(self.transfers), set(self.open), set(self.reversed)

    def restore(self, snap: tuple[Any, ...]) -> None:
        self.accounts, self.transfers, self.open, self.reversed = (
            dict(snap[0]),
            dict(snap[1]),
            set(snap[2]),
            set(snap[3]),
        )

    def totals(self, account_id: int) -> tuple[int, int, int, int]:
        a = self.accounts[account_id]
        return a.dp, a.cp, a.dpe, a.cpe

    # -- submitting ------------------------------------------------------------------------

    def submit(self, requests: list[Any]) -> list[ResultCode]:
        codes: list[ResultCode | None] = [None] * len(requests)
        i = 0
        n = len(requests)
        while i < n:
            j = i
            while j < n and requests[j].linked:
                j += 1
            if j == n:
                for k in range(i, n):
                    codes[k] = R.LINKED_EVENT_CHAIN_OPEN if k == n - 1 else R.LINKED_EVENT_FAILED
                break
            snap = self.snapshot()
            created_here: set[uuid.UUID] = set()
            failed = None
            for k in range(i, j + 1):
                code, exists_of = self.one(requests[k])
                codes[k] = code
                if code is R.OK:
                    created_here.add(requests[k].id)
                if code is R.EXISTS and exists_of in created_here:
                    codes[k] = ("exists-in-chain", code)  # resolved below
                if code not in (R.OK, R.EXISTS):
                    failed = k
                    break
            if i == j:
                i = j + 1
                continue
            values = [c for c in codes[i : j + 1] if c is not None]
            plain = {c if not isinstance(c, tuple) else R.EXISTS for c in values}
            if failed is not None or (R.OK in plain and R.EXISTS in plain):
                self.restore(snap)
                for k in range(i, j + 1):
                    if k == failed:
                        continue
                    if codes[k] is R.EXISTS:  # of a committed transfer: stays true
                        continue
                    codes[k] = R.LINKED_EVENT_FAILED
            else:
                for k in range(i, j + 1):
                    if isinstance(codes[k], tuple):
                        codes[k] = R.EXISTS
            i = j + 1
        return [c if not isinstance(c, tuple) else R.EXISTS for c in codes]  # type: ignore[misc]

    def one(self, r: Any) -> tuple[ResultCode, uuid.UUID | None]:
        static = self.static(r)
        if static is not None:
            return static, None
        if r.id in self.transfers:
            return self.compare(r, self.transfers[r.id]), r.id
        if isinstance(r, NewTransfer):
            return self.new(r), None
        if isinstance(r, Reversal):
            return self.reverse(r), None
        return self.resolve(r), None

    @staticmethod
    def static(r: Any) -> ResultCode | None:
        if r.id.int == 0:
            return R.ID_MUST_NOT_BE_ZERO
        if r.code is not None and len(r.code) > 64:
            return R.INVALID_FIELD
        if r.metadata and has_float(r.metadata):
            return R.INVALID_FIELD
        if isinstance(r, NewTransfer):
            if r.amount <= 0:
                return R.AMOUNT_MUST_BE_POSITIVE
            if r.amount > MAX:
                return R.OVERFLOW
            if r.debit_account_id == r.credit_account_id:
                return R.ACCOUNTS_MUST_BE_DIFFERENT
            if r.timeout_s is not None and (not r.pending or r.timeout_s < 1):
                return R.INVALID_FIELD
        if isinstance(r, PostPending | Reversal) and r.amount is not None:
            if r.amount <= 0:
                return R.AMOUNT_MUST_BE_POSITIVE
            if r.amount > MAX:
                return R.OVERFLOW
        return None

    def compare(self, r: Any, t: MTransfer) -> ResultCode:
        same = meta_text(r.metadata) == t.meta and (r.value_date is None or r.value_date == t.value_date)
        if isinstance(r, NewTransfer):
            same = same and (
                t.kind == ("pending" if r.pending else "posted")
                and t.reverses_id is None
                and t.debit == r.debit_account_id
                and t.credit == r.credit_account_id
                and t.amount == r.amount
                and t.code == r.code
                and t.timeout_s == r.timeout_s
                and (r.currency is None or r.currency == t.currency)
            )
        elif isinstance(r, Reversal):
            same = (
                same
                and t.reverses_id == r.original_id
                and (r.amount is None or r.amount == t.amount)
                and (r.code is None or r.code == t.code)
            )
        else:
            kind = {PostPending: "post", VoidPending: "void", ExpirePending: "expire"}[type(r)]
            same = (
                same
                and t.kind == kind
                and t.pending_id == r.pending_id
                and (r.code is None or r.code == t.code)
            )
            if isinstance(r, PostPending) and r.amount is not None:
                same = same and t.amount == r.amount
        return R.EXISTS if same else R.EXISTS_WITH_DIFFERENT_FIELDS

    def limits(self, debit_id: int, credit_id: int, amount: int) -> ResultCode | None:
        d, c = self.accounts[debit_id], self.accounts[credit_id]
        if d.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS and d.dp + d.dpe + amount > d.cp:
            return R.EXCEEDS_CREDITS
        if d.debits_limit is not None and d.dp + d.dpe + amount - d.cp > d.debits_limit:
            return R.EXCEEDS_CREDITS
        if c.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS and c.cp + c.cpe + amount > c.dp:
            return R.EXCEEDS_DEBITS
        if c.credits_limit is not None and c.cp + c.cpe + amount - c.dp > c.credits_limit:
            return R.EXCEEDS_DEBITS
        if d.dp + d.dpe + amount > MAX or c.cp + c.cpe + amount > MAX:
            return R.OVERFLOW
        return None

    def accounts_problem(self, debit_id: int, credit_id: int) -> ResultCode | None:
        if debit_id not in self.accounts or credit_id not in self.accounts:
            return R.ACCOUNT_NOT_FOUND
        d, c = self.accounts[debit_id], self.accounts[credit_id]
        if d.currency != c.currency:
            return R.LEDGER_MISMATCH
        if d.flags & AccountFlags.CLOSED or c.flags & AccountFlags.CLOSED:
            return R.ACCOUNT_CLOSED
        return None

    def new(self, r: NewTransfer) -> ResultCode:
        problem = self.accounts_problem(r.debit_account_id, r.credit_account_id)
        if problem:
            return problem
        d, c = self.accounts[r.debit_account_id], self.accounts[r.credit_account_id]
        if r.currency is not None and r.currency != d.currency:
            return R.LEDGER_MISMATCH
        problem = self.limits(r.debit_account_id, r.credit_account_id, r.amount)
        if problem:
            return problem
        if r.pending:
            self.accounts[d_id := r.debit_account_id] = replace(d, dpe=d.dpe + r.amount)
            self.accounts[r.credit_account_id] = replace(c, cpe=c.cpe + r.amount)
            self.open.add(r.id)
        else:
            self.accounts[d_id := r.debit_account_id] = replace(d, dp=d.dp + r.amount)
            self.accounts[r.credit_account_id] = replace(c, cp=c.cp + r.amount)
        del d_id
        self.transfers[r.id] = MTransfer(
            "pending" if r.pending else "posted",
            r.debit_account_id,
            r.credit_account_id,
            r.amount,
            r.code,
            meta_text(r.metadata),
            r.value_date or self.business_date,
            d.currency,
            r.timeout_s,
        )
        return R.OK

    def resolve(self, r: Any) -> ResultCode:
        p = self.transfers.get(r.pending_id)
        if p is None:
            return R.PENDING_TRANSFER_NOT_FOUND
        if p.kind != "pending":
            return R.PENDING_TRANSFER_NOT_PENDING
        if r.pending_id not in self.open:
            return R.PENDING_ALREADY_RESOLVED
        if isinstance(r, ExpirePending):
            return R.PENDING_TRANSFER_NOT_EXPIRED  # the model's clock never reaches a timeout
        amount = p.amount
        if isinstance(r, PostPending):
            amount = p.amount if r.amount is None else r.amount
            if amount > p.amount:
                return R.EXCEEDS_PENDING_AMOUNT
            if (self.accounts[p.debit].flags | self.accounts[p.credit].flags) & AccountFlags.CLOSED:
                return R.ACCOUNT_CLOSED
        d, c = self.accounts[p.debit], self.accounts[p.credit]
        posted = amount if isinstance(r, PostPending) else 0
        self.accounts[p.debit] = replace(d, dpe=d.dpe - p.amount, dp=d.dp + posted)
        self.accounts[p.credit] = replace(c, cpe=c.cpe - p.amount, cp=c.cp + posted)
        self.open.discard(r.pending_id)
        kind = "post" if isinstance(r, PostPending) else "void"
        self.transfers[r.id] = MTransfer(
            kind,
            p.debit,
            p.credit,
            amount,
            p.code if r.code is None else r.code,
            meta_text(r.metadata),
            r.value_date or self.business_date,
            p.currency,
            pending_id=r.pending_id,
        )
        return R.OK

    def reverse(self, r: Reversal) -> ResultCode:
        o = self.transfers.get(r.original_id)
        if o is None:
            return R.TRANSFER_NOT_FOUND
        if o.kind not in ("posted", "post") or o.reverses_id is not None:
            return R.TRANSFER_NOT_REVERSIBLE
        if r.original_id in self.reversed:
            return R.ALREADY_REVERSED
        amount = o.amount if r.amount is None else r.amount
        if amount > o.amount:
            return R.EXCEEDS_ORIGINAL_AMOUNT
        problem = self.accounts_problem(o.credit, o.debit) or self.limits(o.credit, o.debit, amount)
        if problem:
            return problem
        d, c = self.accounts[o.credit], self.accounts[o.debit]
        self.accounts[o.credit] = replace(d, dp=d.dp + amount)
        self.accounts[o.debit] = replace(c, cp=c.cp + amount)
        self.reversed.add(r.original_id)
        self.transfers[r.id] = MTransfer(
            "posted",
            o.credit,
            o.debit,
            amount,
            o.code if r.code is None else r.code,
            meta_text(r.metadata),
            r.value_date or self.business_date,
            o.currency,
            reverses_id=r.original_id,
        )
        return R.OK
