"""``kopilka ledger verify``: recompute everything the ledger stores and name the first fault.

All checks read one snapshot (a repeatable-read transaction), so the ledger can keep
writing while they run:

1. the hash chain: each block links to the one before and hashes exactly the transfers
   stored in its range;
2. every transfer: its digest matches its fields, its accounts exist on its ledger, a
   pending transfer is resolved at most once and a transfer reversed at most once, and the
   running totals stored on it follow from the transfers before it (replayed per account
   in ``(recorded_at, seq)`` order, the order the ledger applied them);
3. every account's stored totals equal the replay, and the open holds are exactly the
   unresolved pending transfers;
4. debits equal credits, posted and pending, in every ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.ledger.apply import TRANSFER_COLUMNS
from core.ledger.chain import check_chain
from core.ledger.digest import digest_of_row
from core.ledger.model import TransferKind

_POSTED, _PENDING, _POST, _VOID, _EXPIRE = (int(k) for k in TransferKind)


@dataclass
class VerifyReport:
    transfers: int = 0
    accounts: int = 0
    blocks: int = 0
    sealed: int = 0
    faults: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def unsealed(self) -> int:
        return self.transfers - self.sealed


class _Stop(Exception):
    pass


class _Verifier:
    def __init__(self, conn: Any, max_faults: int, progress: Callable[[str], None] | None) -> None:
        self.conn = conn
        self.max_faults = max_faults
        self.progress = progress or (lambda _: None)
        self.report = VerifyReport()

    def fault(self, message: str) -> None:
        self.report.faults.append(message)
        if len(self.report.faults) >= self.max_faults:
            raise _Stop

    async def run(self) -> VerifyReport:
        try:
            await self._chain()
            await self._transfers()
        except _Stop:
            pass
        return self.report

    async def _chain(self) -> None:
        self.progress("checking the hash chain")
        async for fault, sealed in check_chain(self.conn):
            if fault:
                self.fault(f"hash chain: {fault}")
                return
            self.report.blocks += 1
            self.report.sealed = sealed

    async def _transfers(self) -> None:
        conn = self.conn
        codes = {row["id"]: row["code"] for row in await conn.fetch("SELECT id, code FROM ledger_ledgers")}
        stored: dict[int, Any] = {}
        replay: dict[int, list[int]] = {}
        for row in await conn.fetch(
            "SELECT id, ledger_id, debits_posted, credits_posted, debits_pending, credits_pending FROM ledger_accounts"
        ):
            stored[row["id"]] = row
            replay[row["id"]] = [0, 0, 0, 0]
        self.report.accounts = len(stored)

        self.progress(f"replaying transfers over {len(stored)} accounts")
        open_pending: dict[Any, tuple[int, int, int, int]] = {}
        resolved: set[Any] = set()
        reversed_ids: set[Any] = set()
        count = 0
        query = f"SELECT {TRANSFER_COLUMNS}, digest FROM ledger_transfers ORDER BY recorded_at, seq"
        async for row in conn.cursor(query, prefetch=5000):
            count += 1
            if count % 100_000 == 0:
                self.progress(f"replayed {count} transfers")
            self._transfer(row, stored, replay, open_pending, resolved, reversed_ids)
        self.report.transfers = count

        self.progress("comparing account totals")
        for account_id, row in stored.items():
            expected = replay[account_id]
            actual = [
                row["debits_posted"],
                row["credits_posted"],
                row["debits_pending"],
                row["credits_pending"],
            ]
            if actual != expected:
                names = ("debits_posted", "credits_posted", "debits_pending", "credits_pending")
                diffs = ", ".join(
                    f"{n} {a} (transfers give {e})"
                    for n, a, e in zip(names, actual, expected, strict=True)
                    if a != e
                )
                self.fault(f"account {account_id}: stored {diffs}")

        holds = {row["pending_id"]: row for row in await conn.fetch("SELECT * FROM ledger_holds")}
        for pending_id, (ledger_id, debit, credit, amount) in open_pending.items():
            hold = holds.pop(pending_id, None)
            if hold is None:
                self.fault(f"pending transfer {pending_id} is unresolved but has no open hold")
            elif (hold["ledger_id"], hold["debit_account_id"], hold["credit_account_id"], hold["amount"]) != (
                ledger_id,
                debit,
                credit,
                amount,
            ):
                self.fault(f"hold {pending_id} does not match its pending transfer")
        for pending_id in holds:
            self.fault(f"hold {pending_id} has no unresolved pending transfer")

        self.progress("checking debits = credits per ledger")
        for row in await conn.fetch(
            "SELECT ledger_id, sum(debits_posted) AS dp, sum(credits_posted) AS cp, sum(debits_pending) AS dpe,"
            " sum(credits_pending) AS cpe FROM ledger_accounts GROUP BY ledger_id ORDER BY ledger_id"
        ):
            code = codes.get(row["ledger_id"], row["ledger_id"])
            if row["dp"] != row["cp"]:
                self.fault(f"ledger {code}: posted debits {row['dp']} != posted credits {row['cp']}")
            if row["dpe"] != row["cpe"]:
                self.fault(f"ledger {code}: pending debits {row['dpe']} != pending credits {row['cpe']}")

    def _transfer(
        self,
        row: Any,
        stored: dict[int, Any],
        replay: dict[int, list[int]],
        open_pending: dict[Any, tuple[int, int, int, int]],
        resolved: set[Any],
        reversed_ids: set[Any],
    ) -> None:
        tid = row["id"]
        if digest_of_row(row) != row["digest"]:
            self.fault(
                f"transfer {tid} (seq {row['seq']}): its fields do not match its digest "
                "(it was changed after it was written)"
            )
        debit_id, credit_id, ledger_id = row["debit_account_id"], row["credit_account_id"], row["ledger_id"]
        for side, account_id in (("debit", debit_id), ("credit", credit_id)):
            account = stored.get(account_id)
            if account is None:
                self.fault(f"transfer {tid}: its {side} account {account_id} does not exist")
                return
            if account["ledger_id"] != ledger_id:
                self.fault(f"transfer {tid}: its {side} account {account_id} is on another ledger")
        dr, cr = replay[debit_id], replay[credit_id]
        kind, amount = row["kind"], row["amount"]
        if kind == _POSTED:
            dr[0] += amount
            cr[1] += amount
            reverses = row["reverses_id"]
            if reverses is not None:
                if reverses in reversed_ids:
                    self.fault(f"transfer {reverses} is reversed more than once (again by {tid})")
                reversed_ids.add(reverses)
        elif kind == _PENDING:
            dr[2] += amount
            cr[3] += amount
            open_pending[tid] = (ledger_id, debit_id, credit_id, amount)
        else:
            pending_id = row["pending_id"]
            pending = open_pending.pop(pending_id, None)
            if pending is None:
                again = "again " if pending_id in resolved else ""
                self.fault(f"transfer {tid} resolves {again}pending transfer {pending_id}, which is not open")
                return
            resolved.add(pending_id)
            if pending[1:3] != (debit_id, credit_id):
                self.fault(f"transfer {tid} resolves pending transfer {pending_id} between other accounts")
            held = pending[3]
            dr[2] -= held
            cr[3] -= held
            if kind == _POST:
                if amount > held:
                    self.fault(f"transfer {tid} posts {amount}, more than the {held} held")
                dr[0] += amount
                cr[1] += amount
            elif amount != held:
                self.fault(f"transfer {tid} releases {amount}, not the {held} held")
        stored_dr = [
            row["dr_debits_posted"],
            row["dr_credits_posted"],
            row["dr_debits_pending"],
            row["dr_credits_pending"],
        ]
        stored_cr = [
            row["cr_debits_posted"],
            row["cr_credits_posted"],
            row["cr_debits_pending"],
            row["cr_credits_pending"],
        ]
        if stored_dr != dr:
            self.fault(
                f"transfer {tid}: running totals of account {debit_id} {stored_dr} do not follow from "
                f"the transfers before it {dr}"
            )
        if stored_cr != cr:
            self.fault(
                f"transfer {tid}: running totals of account {credit_id} {stored_cr} do not follow from "
                f"the transfers before it {cr}"
            )


async def verify(
    db: Any, *, max_faults: int = 1, progress: Callable[[str], None] | None = None
) -> VerifyReport:
    """Check the whole ledger; stops after ``max_faults`` faults (the first one names what broke first)."""
    async with db.connection() as conn:
        if conn.is_in_transaction():  # a test's transaction, or a caller's: it is one snapshot already
            return await _Verifier(conn, max_faults, progress).run()
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            return await _Verifier(conn, max_faults, progress).run()
