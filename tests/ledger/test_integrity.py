"""Tamper evidence: sealing in commit order, `ledger verify`, and the faults it names."""

import asyncio
import contextvars

import asyncpg
import pytest
from click.testing import CliRunner

from core.cli import cli
from core.ledger import Ledger, NewTransfer, new_transfer_id
from core.ledger.digest import digest_of_row

pytestmark = pytest.mark.committed


@pytest.fixture
async def ledger_db(make_platform, committed_db):
    platform = await make_platform(plugins=[], database=committed_db)
    ledger = platform.service(Ledger)
    cash = await ledger.open_account(owner="platform", purpose="cash", currency="RUB")
    wallets = [
        await ledger.open_account(owner=f"user:{i}", purpose="wallet", currency="RUB") for i in range(3)
    ]
    return ledger, committed_db, cash, wallets


async def some_transfers(ledger, cash, wallets, n=6):
    requests = [
        NewTransfer(
            id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=wallets[i % 3].id, amount=10 + i
        )
        for i in range(n)
    ]
    results = await ledger.submit(requests)
    assert all(r.created for r in results)
    return requests


async def tamper(db, sql, *args):
    async with db.transaction() as conn:
        await conn.execute("ALTER TABLE ledger_transfers DISABLE TRIGGER ledger_transfers_append_only")
        await conn.execute(sql, *args)
        await conn.execute("ALTER TABLE ledger_transfers ENABLE TRIGGER ledger_transfers_append_only")


async def test_transfers_are_append_only(ledger_db):
    ledger, db, cash, wallets = ledger_db
    await some_transfers(ledger, cash, wallets, 1)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await db.execute("UPDATE ledger_transfers SET amount = amount + 1")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await db.execute("DELETE FROM ledger_transfers")


async def test_sealing_follows_commit_order_and_waits_for_open_transactions(ledger_db):
    ledger, db, cash, wallets = ledger_db
    await some_transfers(ledger, cash, wallets)
    first = await ledger.seal()
    assert len(first) == 1 and first[0].transfers == 6

    # A transaction that wrote a transfer but has not committed holds the horizon back.
    slow = await db.connect_raw()
    try:
        await slow.execute("BEGIN")
        early = await slow.fetchval("SELECT pg_current_xact_id()::text::bigint")
        await some_transfers(ledger, cash, wallets, 3)  # later xids, committed first
        assert await ledger.seal() == []  # everything new is at or above the open transaction
        await slow.execute("ROLLBACK")
    finally:
        await slow.close()
    assert early < (await db.fetchval("SELECT max(xid) FROM ledger_transfers"))
    second = await ledger.seal()
    assert sum(b.transfers for b in second) == 3 and second[0].prev_hash == first[0].hash
    report = await ledger.verify()
    assert report.ok, report.faults
    assert (report.transfers, report.sealed, report.blocks) == (9, 9, 2)


async def test_an_uncommitted_transfer_is_sealed_after_it_commits(ledger_db):
    ledger, db, cash, wallets = ledger_db
    async with db.transaction():  # the inline path: this transaction writes the transfer
        await some_transfers(ledger, cash, wallets, 1)

        async def seal_elsewhere():
            return await ledger.seal()

        # Seal from another task (another connection) while this transaction is open.
        blocks = await asyncio.create_task(seal_elsewhere(), context=contextvars.Context())
        assert blocks == []
    assert sum(b.transfers for b in await ledger.seal()) == 1
    assert (await ledger.verify()).ok


async def test_verify_names_a_changed_amount(ledger_db):
    ledger, db, cash, wallets = ledger_db
    requests = await some_transfers(ledger, cash, wallets)
    await ledger.seal()
    await tamper(db, "UPDATE ledger_transfers SET amount = amount + 100 WHERE id = $1", requests[2].id)
    report = await ledger.verify()
    assert not report.ok
    assert str(requests[2].id) in report.faults[0] and "digest" in report.faults[0]


async def test_verify_names_a_rewritten_sealed_transfer(ledger_db):
    ledger, db, cash, wallets = ledger_db
    requests = await some_transfers(ledger, cash, wallets)
    await ledger.seal()
    # A careful forger changes the amount, the running totals and the digest: the block gives it away.
    await tamper(
        db,
        "UPDATE ledger_transfers SET amount = amount + 1, cr_credits_posted = cr_credits_posted + 1"
        " WHERE id = $1",
        requests[5].id,
    )
    row = await db.fetchrow("SELECT * FROM ledger_transfers WHERE id = $1", requests[5].id)
    await tamper(
        db, "UPDATE ledger_transfers SET digest = $2 WHERE id = $1", requests[5].id, digest_of_row(row)
    )
    report = await ledger.verify()
    assert report.faults[0].startswith("hash chain: block 1")


async def test_verify_names_a_deleted_transfer_and_a_wrong_balance(ledger_db):
    ledger, db, cash, wallets = ledger_db
    requests = await some_transfers(ledger, cash, wallets)
    await ledger.seal()
    await db.execute(
        "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = $1", wallets[1].id
    )
    report = await ledger.verify(max_faults=5)
    assert report.faults[0].startswith(f"account {wallets[1].id}: stored credits_posted")
    assert any("ledger RUB: posted debits" in f for f in report.faults)
    await tamper(db, "DELETE FROM ledger_transfers WHERE id = $1", requests[0].id)
    assert "transfers were added or deleted" in (await ledger.verify()).faults[0]


async def test_cli_verify_exits_non_zero_on_a_fault(ledger_db, monkeypatch):
    ledger, db, cash, wallets = ledger_db
    requests = await some_transfers(ledger, cash, wallets)
    monkeypatch.setenv("DATABASE_URL", db.dsn)
    runner = CliRunner()

    def verify():
        return runner.invoke(cli, ["ledger", "verify"], catch_exceptions=False)

    ok = await asyncio.to_thread(verify)
    assert ok.exit_code == 0, ok.output
    assert "ledger verified: 6 transfers" in ok.output
    await tamper(db, "UPDATE ledger_transfers SET amount = 1 WHERE id = $1", requests[3].id)
    broken = await asyncio.to_thread(verify)
    assert broken.exit_code == 1
    assert f"FAULT: transfer {requests[3].id}" in broken.output
