"""The process the crash test kills: writes a fixed plan of transfers, batch after batch.

    python -m tests.ledger.crash_writer DSN TREASURY WALLET... --pause-at N

With ``--pause-at N`` it stops inside batch N after the batch's rows are written but
before its transaction commits, prints ``WRITTEN N`` and waits to be killed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys

from core.db.database import Database
from core.ledger import Ledger, NewTransfer, PostPending, VoidPending, transfer_id

BATCH = 500
BATCHES = 6


def plan(treasury: int, wallets: list[int]) -> list[list]:
    """The same requests in the same batches every time: funding, payments, holds and their resolutions."""
    rng = random.Random(2026)
    batches = []
    holds: list[NewTransfer] = []
    for b in range(BATCHES):
        batch = []
        for i in range(BATCH):
            key = ("crash", b, i)
            roll = rng.random()
            if b == 0 or roll < 0.2:
                batch.append(
                    NewTransfer(
                        id=transfer_id(*key),
                        debit_account_id=treasury,
                        credit_account_id=rng.choice(wallets),
                        amount=rng.randint(1_000, 5_000),
                    )
                )
            elif roll < 0.3 and holds:
                hold = holds.pop()
                batch.append(
                    PostPending(id=transfer_id(*key), pending_id=hold.id, amount=max(1, hold.amount // 2))
                    if rng.random() < 0.5
                    else VoidPending(id=transfer_id(*key), pending_id=hold.id)
                )
            else:
                debit, credit = rng.sample(wallets, 2)
                request = NewTransfer(
                    id=transfer_id(*key),
                    debit_account_id=debit,
                    credit_account_id=credit,
                    amount=rng.randint(1, 10),
                    pending=roll > 0.9,
                )
                if request.pending:
                    holds.append(request)
                batch.append(request)
        batches.append(batch)
    return batches


async def main(args: argparse.Namespace) -> None:
    from core.ledger import apply

    db = Database(args.dsn, min_size=1, max_size=2)
    await db.start()
    ledger = Ledger(db)
    await ledger.start()
    written = 0

    def pausing(original):
        # A batch's last write: `write` when it took its locks first, `write_checked` when it
        # was applied before them (speculation.py).
        async def write(self, conn, **kw):
            nonlocal written
            await original(self, conn, **kw)
            written += 1
            if written == args.pause_at:
                print(f"WRITTEN {written}", flush=True)
                await asyncio.sleep(3600)  # killed here, inside the transaction

        return write

    apply.Applied.write = pausing(apply.Applied.write)
    apply.Applied.write_checked = pausing(apply.Applied.write_checked)
    for number, batch in enumerate(plan(args.treasury, args.wallets), start=1):
        results = await ledger.submit(batch)
        print(f"COMMITTED {number} {sum(r.created for r in results)}", flush=True)
    print("DONE", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("treasury", type=int)
    parser.add_argument("wallets", type=int, nargs="+")
    parser.add_argument("--pause-at", type=int, default=0)
    asyncio.run(main(parser.parse_args(sys.argv[1:])))
