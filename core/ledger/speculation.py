"""Applying the next batch before its locks, on top of the batch still committing.

Two large batches of the group commit nearly always share an account (the hot one, and
some of the thousands of wallets each names), so the second cannot lock until the first
commits. Without speculation everything the second does happens after that: lock, apply
the rules, COPY its transfers, update the totals, commit. With it, the second batch reads
what it names, takes each account's totals from where the batch before it left them (or,
for an account no batch of this process has in flight, from the table without a lock),
applies the rules and COPYs its transfers while the first one still holds the locks.
Only the lock, the account update and the commit stay in turn.

What was assumed is checked under the locks: every account must be exactly as the batch
took it (totals, flags, limits and its last recorded time, which only grows, so a change
and its undoing cannot slip through). Any difference (a batch before it rolled back,
another process wrote, a limit was changed) rolls the batch back, and it is applied again
the plain way, lock first. Correctness rests on that check alone; the bookkeeping here
only makes misses rare.

Within the process:

- every batch of the group commit publishes the states it leaves in its accounts as soon
  as it has applied them (and, before a plain batch takes its locks, marks its accounts as
  "in flight, state unknown", so nobody speculates on them meanwhile);
- a batch that references a pending or original transfer that a batch in flight also
  references is applied the plain way (the second resolution must see the first);
- a speculative batch takes its locks only after the batches it built on have finished,
  so it does not queue ahead of them on the database and fail its own check;
- a batch that rolled back withdraws what it published.

Several processes writing the same accounts make each other's states stale; misses then
switch speculation off for a while (``PAUSE_AFTER_MISSES``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

#: Longest wait for the batches built on before locking anyway (the database then orders
#: them, and finds any deadlock a wait in Python could hide from it).
WAIT_S = 1.0
#: Out of the last ``WINDOW`` speculative batches, this many misses pause speculation ...
PAUSE_AFTER_MISSES = 4
WINDOW = 32
#: ... for this many batches.
PAUSE_BATCHES = 64
#: States kept at most; past this the oldest half of what finished is dropped.
MAX_STATES = 400_000


class Missed(Exception):
    """An account was not as the speculative batch assumed: roll back and apply it the plain way."""


class Attempt:
    """One transaction of one batch: what it published lasts while it runs, or after it committed."""

    __slots__ = ("committed", "done", "refs", "serial")

    def __init__(self, serial: int) -> None:
        self.serial = serial
        self.done = asyncio.Event()
        self.committed = False
        self.refs: list[uuid.UUID] = []


def _serial(entry: Any) -> int:
    return entry if type(entry) is int else entry.serial


class Speculation:
    def __init__(self) -> None:
        #: Account id -> the account as the last batch of this process left it (an object of
        #: apply.py with ``serial``, the attempt that published it, and ``updated_us``), or
        #: the serial of a plain batch that has it locked and has not applied yet. The next
        #: batch takes the object over and changes it: the publisher has packed what it
        #: still writes before publishing.
        self.states: dict[int, Any] = {}
        #: Attempts that have not finished, by serial.
        self.running: dict[int, Attempt] = {}
        #: Pending and original transfers referenced by attempts in flight, with a count.
        self.refs: dict[uuid.UUID, int] = {}
        self._serial = 0
        self._recent: deque[bool] = deque(maxlen=WINDOW)
        self._paused = 0
        #: Figures for benchmarks and tests.
        self.hits = 0
        self.misses = 0
        self.declined = 0

    # -- deciding ----------------------------------------------------------------------------

    def wanted(self) -> bool:
        """Whether the next large batch should try; counts down a pause after many misses."""
        if self._paused:
            self._paused -= 1
            return False
        return True

    def refers_to_running(self, refs: Iterable[uuid.UUID]) -> bool:
        """Whether a batch in flight refers to one of these pending or original transfers too."""
        held = self.refs
        return bool(held) and any(ref in held for ref in refs)

    # -- publishing ----------------------------------------------------------------------------

    def begin(self) -> Attempt:
        self._serial += 1
        attempt = self.running[self._serial] = Attempt(self._serial)
        return attempt

    def claim(self, attempt: Attempt, account_ids: Iterable[int], refs: Iterable[uuid.UUID]) -> None:
        """A plain batch is about to lock these accounts: their state is unknown until it applied."""
        states = self.states
        serial = attempt.serial
        for account_id in account_ids:
            states[account_id] = serial
        self.hold_refs(attempt, refs)

    def hold_refs(self, attempt: Attempt, refs: Iterable[uuid.UUID]) -> None:
        """The pending and original transfers an attempt refers to, until it finishes (once per attempt)."""
        if attempt.refs:
            return
        held = self.refs
        for ref in refs:
            attempt.refs.append(ref)
            held[ref] = held.get(ref, 0) + 1

    def withdraw(self, attempt: Attempt, account_ids: Iterable[int]) -> None:
        """Drop what ``attempt`` said of these accounts (it locked them and changed nothing)."""
        table = self.states
        serial = attempt.serial
        for account_id in account_ids:
            entry = table.get(account_id)
            if entry is not None and _serial(entry) == serial:
                del table[account_id]

    def forget(self, account_ids: Iterable[int]) -> None:
        """Accounts written outside the group commit (inline batches, limits), or found changed: read them next time."""
        table = self.states
        for account_id in account_ids:
            table.pop(account_id, None)

    def finish(self, attempt: Attempt, *, committed: bool) -> None:
        attempt.committed = committed
        attempt.done.set()
        self.running.pop(attempt.serial, None)
        held = self.refs
        for ref in attempt.refs:
            count = held.get(ref, 0) - 1
            if count > 0:
                held[ref] = count
            else:
                held.pop(ref, None)
        attempt.refs = []
        table = self.states
        serial = attempt.serial
        if not committed:
            for account_id in [i for i, entry in table.items() if _serial(entry) == serial]:
                del table[account_id]
        elif len(table) > MAX_STATES:
            running = self.running
            finished = [i for i, entry in table.items() if _serial(entry) not in running]
            for account_id in finished[: len(finished) // 2 + 1]:
                del table[account_id]

    # -- waiting and counting ------------------------------------------------------------------------

    @staticmethod
    async def wait_for(attempts: Iterable[Attempt]) -> None:
        """Until the batches a speculative one built on have finished (or ``WAIT_S`` passed)."""
        waiting = [a.done.wait() for a in set(attempts) if not a.done.is_set()]
        if not waiting:
            return
        try:
            await asyncio.wait_for(asyncio.gather(*waiting), WAIT_S)
        except TimeoutError:
            pass

    def outcome(self, *, hit: bool) -> None:
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        recent = self._recent
        recent.append(hit)
        if not hit and recent.count(False) >= PAUSE_AFTER_MISSES:
            self._paused = PAUSE_BATCHES
            recent.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "hits": self.hits,
            "misses": self.misses,
            "declined": self.declined,
            "states": len(self.states),
        }
