"""Reading: balances now and in the past, statements, trial balances, CSV; the hook after commit."""

import asyncio
import csv
import datetime as dt
import io

import pytest

from core import hookimpl
from core.ledger import AccountFlags, Ledger, NewTransfer, TransferKind, new_transfer_id
from core.ledger.reading import BadCursor


async def pay(ledger, debit, credit, amount, **kw):
    result = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=debit.id, credit_account_id=credit.id, amount=amount, **kw
    )
    assert result.created, result
    return result.transfer


async def test_statement_pages_with_running_balance(ledger, accounts):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    for amount in range(1, 8):
        await pay(ledger, cash, wallet, amount, code=f"in{amount}")
    await pay(ledger, wallet, cash, 5, code="out")
    hold = await pay(ledger, wallet, cash, 3, pending=True)
    lines = []
    cursor = None
    while True:
        page = await ledger.statement(wallet.id, before=cursor, limit=3)
        lines += page.lines
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [line.amount for line in lines] == [-3, -5, 7, 6, 5, 4, 3, 2, 1]
    assert [line.balance_after for line in lines] == [23, 23, 28, 21, 15, 10, 6, 3, 1]
    assert lines[0].kind is TransferKind.PENDING and lines[0].totals_after.available == 20
    assert lines[0].transfer_id == hold.id and lines[1].counterparty_account_id == cash.id
    assert lines[-1].code == "in1"
    assert [line.seq for line in lines] == sorted((line.seq for line in lines), reverse=True)
    with pytest.raises(BadCursor):
        await ledger.statement(wallet.id, before="yesterday")
    with pytest.raises(ValueError):
        await ledger.statement(wallet.id, limit=0)


async def test_balance_at_a_past_moment(ledger, accounts, db):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    first = await pay(ledger, cash, wallet, 100)
    # Transfers in one test transaction share the database clock: give them distinct moments.
    await asyncio.sleep(0.01)
    second = await pay(ledger, cash, wallet, 50)
    assert second.recorded_at > first.recorded_at
    before = await ledger.balance(wallet.id, at=first.recorded_at - dt.timedelta(microseconds=1))
    assert before.posted == 0 and before.as_of is not None
    assert (await ledger.balance(wallet.id, at=first.recorded_at)).posted == 100
    assert (await ledger.balance(wallet.id, at=second.recorded_at)).posted == 150
    assert (await ledger.balance(cash.id, at=first.recorded_at)).posted == -100
    with pytest.raises(ValueError):
        await ledger.balance(wallet.id, at=dt.datetime(2030, 1, 1))
    assert await ledger.balance(999_999_999) is None


async def test_recorded_time_never_goes_back_per_account(ledger, accounts, db):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    # Pretend the last transfer came from a clock an hour ahead (a clock that then stepped back).
    await db.execute(
        "UPDATE ledger_accounts SET updated_at = now() + interval '1 hour' WHERE id = $1", wallet.id
    )
    transfer = await pay(ledger, cash, wallet, 1)
    assert transfer.recorded_at > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=59)


async def test_balance_by_value_date(ledger, accounts):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    await pay(ledger, cash, wallet, 100, value_date=dt.date(2026, 3, 1))
    await pay(ledger, cash, wallet, 40, value_date=dt.date(2026, 2, 1))  # recorded later, dated earlier
    await pay(ledger, wallet, cash, 10, value_date=dt.date(2026, 3, 5))
    assert await ledger.posted_balance_on(wallet.id, dt.date(2026, 1, 31)) == 0
    assert await ledger.posted_balance_on(wallet.id, dt.date(2026, 2, 15)) == 40
    assert await ledger.posted_balance_on(wallet.id, dt.date(2026, 3, 31)) == 130


async def test_value_date_defaults_to_the_business_date(ledger, accounts, business_date):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    await business_date.set(dt.date(2031, 5, 6))
    assert (await pay(ledger, cash, wallet, 1)).value_date == dt.date(2031, 5, 6)


async def test_owner_balances_and_listing(ledger):
    owner = "user:balances-test"
    wallet = await ledger.open_account(owner=owner, purpose="wallet", currency="RUB", flags=AccountFlags.NONE)
    usd = await ledger.open_account(owner=owner, purpose="wallet", currency="USD")
    cash = await ledger.open_account(owner="platform", purpose="cash-test", currency="RUB")
    await pay(ledger, cash, wallet, 250)
    balances = await ledger.owner_balances(owner)
    assert [(b.account_id, b.currency, b.purpose, b.posted, b.available) for b in balances] == [
        (wallet.id, "RUB", "wallet", 250, 250),
        (usd.id, "USD", "wallet", 0, 0),
    ]
    assert [a.id for a in await ledger.accounts(owner=owner)] == [wallet.id, usd.id]
    assert [a.id for a in await ledger.accounts(owner=owner, currency="USD")] == [usd.id]
    assert [a.id for a in await ledger.accounts(owner=owner, after_id=wallet.id)] == [usd.id]
    assert await ledger.accounts(currency="ZZZ") == []


async def test_trial_balance_and_csv(ledger, accounts):
    cash = await accounts.open("tb-cash", currency="EUR")
    wallets = [await accounts.open("tb-wallet", currency="EUR") for _ in range(3)]
    for i, wallet in enumerate(wallets):
        await pay(ledger, cash, wallet, 100 * (i + 1))
    await pay(ledger, wallets[0], cash, 7, pending=True)
    trial = await ledger.trial_balance("EUR")
    rows = {r.purpose: r for r in trial.rows}
    assert trial.balanced and trial.scale == 2
    assert (
        rows["tb-cash"].balance == -600
        and rows["tb-wallet"].balance == 600
        and rows["tb-wallet"].accounts == 3
    )
    assert trial.debits_pending == trial.credits_pending == 7
    text = "".join([chunk async for chunk in ledger.trial_balance_csv("EUR")])
    table = list(csv.DictReader(io.StringIO(text)))
    assert table[-1]["account_id"] == "TOTAL" and table[-1]["balance"] == "0"
    assert {r["balance_decimal"] for r in table if r["purpose"] == "tb-wallet"} == {"1.00", "2.00", "3.00"}
    assert await ledger.trial_balance("JPY") is None


class Listener:
    """A throwaway plugin recording what the ledger announced."""

    def __init__(self) -> None:
        self.seen: list = []

    @hookimpl
    def on_transfers_committed(self, transfers):
        self.seen.extend(transfers)


async def test_hook_fires_after_commit_only(make_platform, db):
    listener = Listener()
    platform = await make_platform(extra_plugins={"test.listener": listener}, plugins=["test.listener"])
    ledger = platform.service(Ledger)
    cash = await ledger.open_account(owner="platform", purpose="hook-cash", currency="RUB")
    wallet = await ledger.open_account(owner="platform", purpose="hook-wallet", currency="RUB")
    request = NewTransfer(
        id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=wallet.id, amount=5
    )

    with pytest.raises(RuntimeError):
        async with db.transaction():
            await ledger.submit([request])
            raise RuntimeError("the plugin's own work failed")
    assert await ledger.get_transfer(request.id) is None  # money and plugin state roll back together
    await asyncio.sleep(0.05)
    assert listener.seen == []

    async with db.transaction():
        await ledger.submit([request])
        await asyncio.sleep(0.05)
        assert listener.seen == []  # not before the commit
    await ledger.submit([request])  # a retry: exists, not announced again
    batched = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=wallet.id, amount=6
    )
    for _ in range(50):
        if len(listener.seen) == 2:
            break
        await asyncio.sleep(0.02)
    assert [t.id for t in listener.seen] == [request.id, batched.id]
    assert listener.seen[0].amount == 5 and listener.seen[0].currency == "RUB"
