"""Batches applied before their locks (core/ledger/speculation.py) give the plain answers.

Every batch here goes through COPY, so even small batches are speculative when they can be.
"""

import asyncio
import random

import pytest

from core.db.database import Database
from core.ledger import (
    Ledger,
    NewTransfer,
    PostPending,
    Reversal,
    VoidPending,
    new_transfer_id,
)
from core.ledger import apply as apply_module

from .conftest import open_wallets

pytestmark = [pytest.mark.committed]


@pytest.fixture(autouse=True)
def every_batch_through_copy(monkeypatch):
    monkeypatch.setattr(apply_module, "COPY_FROM", 1)


async def test_speculative_batches_keep_every_rule(make_platform, committed_db):
    platform = await make_platform(plugins=[], database=committed_db)
    ledger = platform.service(Ledger)
    treasury = await ledger.open_account(owner="platform", purpose="treasury", currency="RUB")
    hot = await ledger.open_account(owner="platform", purpose="settlement", currency="RUB", debits_limit=500)
    wallets = await open_wallets(ledger, 12, fund=1_000, source=treasury)
    posted: list[NewTransfer] = []
    codes: dict[str, int] = {}

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(25):
            a, b = rng.sample(wallets, 2)
            pick = rng.random()
            if pick < 0.15 and posted:
                original = rng.choice(posted)
                batch = [Reversal(id=new_transfer_id(), original_id=original.id, amount=1)]
            elif pick < 0.3:
                hold = NewTransfer(
                    id=new_transfer_id(),
                    debit_account_id=a.id,
                    credit_account_id=hot.id,
                    amount=50,
                    pending=True,
                )
                held = await ledger.submit([hold])
                if not held[0].created:
                    continue
                resolve = (
                    PostPending(id=new_transfer_id(), pending_id=hold.id, amount=rng.randint(1, 50))
                    if rng.random() < 0.5
                    else VoidPending(id=new_transfer_id(), pending_id=hold.id)
                )
                batch = [resolve, resolve]  # the second answers "exists"
            elif pick < 0.45:
                batch = [  # a payment and its fee: both or neither
                    NewTransfer(
                        id=new_transfer_id(),
                        debit_account_id=a.id,
                        credit_account_id=b.id,
                        amount=300,
                        linked=True,
                    ),
                    NewTransfer(
                        id=new_transfer_id(), debit_account_id=b.id, credit_account_id=hot.id, amount=7
                    ),
                ]
            else:
                debit, credit = (hot, a) if rng.random() < 0.5 else (a, hot)
                batch = [
                    NewTransfer(
                        id=new_transfer_id(),
                        debit_account_id=debit.id,
                        credit_account_id=credit.id,
                        amount=rng.randint(1, 400),
                    )
                ]
            results = await ledger.submit(batch)
            for request, result in zip(batch, results, strict=True):
                codes[result.code.value] = codes.get(result.code.value, 0) + 1
                if result.created and type(request) is NewTransfer and not request.pending:
                    posted.append(request)
            if rng.random() < 0.1:  # a retry of the whole batch: nothing moves twice
                again = await ledger.submit(batch)
                for first, second in zip(results, again, strict=True):
                    if first.created:
                        assert second.code.value == "exists", (first, second)

    await asyncio.gather(*(client(seed) for seed in range(16)))
    speculation = ledger.group_commit.speculation
    assert speculation.hits > 20, speculation.snapshot()
    assert speculation.misses == 0, speculation.snapshot()  # one process: its guesses hold
    assert codes.get("ok", 0) > 100 and codes.get("exceeds_credits", 0) > 0, codes
    report = await ledger.verify()
    assert report.ok, report.faults
    over = await committed_db.fetchval(
        "SELECT count(*) FROM ledger_transfers t JOIN ledger_accounts a ON a.flags & 1 = 1 AND"
        " ((a.id = t.debit_account_id AND t.dr_debits_posted + t.dr_debits_pending > t.dr_credits_posted) OR"
        "  (a.id = t.credit_account_id AND t.cr_debits_posted + t.cr_debits_pending > t.cr_credits_posted))"
    )
    assert over == 0


async def test_an_account_changed_elsewhere_is_a_miss_and_applied_the_plain_way(make_platform, committed_db):
    platform = await make_platform(plugins=[], database=committed_db)
    ledger = platform.service(Ledger)
    other_pool = Database(committed_db.dsn, min_size=1, max_size=2)
    await other_pool.start()
    other = Ledger(other_pool)  # another process
    await other.start()
    try:
        treasury = await ledger.open_account(owner="platform", purpose="treasury", currency="RUB")
        (wallet, shop) = await open_wallets(ledger, 2, fund=100, source=treasury)

        def pay(amount):
            return NewTransfer(
                id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=shop.id, amount=amount
            )

        assert (await ledger.submit([pay(10)]))[0].created  # this process now knows the wallet: 90
        # The other process spends 80 of it, and then lowers what the shop may hold.
        assert (await other.submit([pay(80)]))[0].created
        # The next batch here assumes 90 and would let 50 go: the check under the locks sees
        # the wallet changed, and the plain attempt refuses it.
        result = (await ledger.submit([pay(50)]))[0]
        assert result.code.value == "exceeds_credits", result
        assert ledger.group_commit.speculation.misses == 1
        assert (await ledger.submit([pay(10)]))[0].created
        assert (await ledger.balance(wallet.id)).posted == 0
        # A limit changed elsewhere is a change too.
        await other.set_limits(shop.id, credits_limit=0)
        limited = (
            await ledger.submit(
                [
                    NewTransfer(
                        id=new_transfer_id(),
                        debit_account_id=treasury.id,
                        credit_account_id=shop.id,
                        amount=1,
                    )
                ]
            )
        )[0]
        assert limited.code.value == "exceeds_debits", limited
        assert ledger.group_commit.speculation.misses == 2
        assert (await ledger.verify()).ok
    finally:
        await other.stop()
        await other_pool.close()


async def test_a_batch_built_on_one_that_failed_is_applied_again(make_platform, committed_db, monkeypatch):
    platform = await make_platform(plugins=[], database=committed_db)
    ledger = platform.service(Ledger)
    treasury = await ledger.open_account(owner="platform", purpose="treasury", currency="RUB")
    (wallet, shop) = await open_wallets(ledger, 2, fund=100, source=treasury)
    doomed = new_transfer_id()
    original = apply_module.Applied.write_checked

    async def write_checked(self, conn):
        if any(r.id == doomed for r in self.requests):
            await asyncio.sleep(0.05)  # the next batch builds on this one meanwhile
            raise RuntimeError("the disk is full")
        await original(self, conn)

    monkeypatch.setattr(apply_module.Applied, "write_checked", write_checked)

    def pay(id, amount):
        return NewTransfer(id=id, debit_account_id=wallet.id, credit_account_id=shop.id, amount=amount)

    first = asyncio.create_task(ledger.submit([pay(doomed, 70)]))
    await asyncio.sleep(0.01)
    second = await ledger.submit([pay(new_transfer_id(), 60)])
    with pytest.raises(RuntimeError):
        await first
    # Had the first gone through, the second would lack the funds; it did not.
    assert second[0].created, second[0]
    assert (await ledger.balance(wallet.id)).posted == 40
    assert (await ledger.verify()).ok
