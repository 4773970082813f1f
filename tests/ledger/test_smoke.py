from core.ledger import ResultCode, new_transfer_id


async def test_transfer_and_balances(ledger, accounts, db):
    cash = await accounts.open("cash")
    wallet = await accounts.funded(cash, 1000)
    other = await accounts.open()
    r = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=other.id, amount=1500
    )
    assert r.code is ResultCode.EXCEEDS_CREDITS, r
    r = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=other.id, amount=400
    )
    assert r.code is ResultCode.OK
    assert r.transfer.debit_totals.posted == 600
    again = await ledger.transfer(id=r.id, debit_account_id=wallet.id, credit_account_id=other.id, amount=400)
    assert again.code is ResultCode.EXISTS
    diff = await ledger.transfer(id=r.id, debit_account_id=wallet.id, credit_account_id=other.id, amount=401)
    assert diff.code is ResultCode.EXISTS_WITH_DIFFERENT_FIELDS and "amount" in diff.detail
    b = await ledger.balance(wallet.id)
    assert (b.posted, b.available) == (600, 600)
    async with db.transaction():
        r2 = await ledger.transfer(
            id=new_transfer_id(),
            debit_account_id=wallet.id,
            credit_account_id=other.id,
            amount=100,
            pending=True,
        )
        assert r2.created
    b = await ledger.balance(wallet.id)
    assert (b.posted, b.pending, b.available) == (600, -100, 500)
    page = await ledger.statement(wallet.id)
    assert [line.amount for line in page.lines] == [-100, -400, 1000]
    report = await ledger.verify()
    assert report.ok, report.faults
