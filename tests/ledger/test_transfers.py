"""The ledger's rules, one at a time: limits, holds, reversals, chains, idempotency."""

import asyncio
import datetime as dt
import uuid

import pytest

from core.ledger import (
    AccountFlags,
    NewTransfer,
    PostPending,
    ResultCode,
    Reversal,
    TransferKind,
    VoidPending,
    new_transfer_id,
    transfer_id,
)

R = ResultCode
DMNEC = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


def move(debit, credit, amount, **kw):
    return NewTransfer(
        id=kw.pop("id", None) or new_transfer_id(),
        debit_account_id=debit.id,
        credit_account_id=credit.id,
        amount=amount,
        **kw,
    )


async def test_transfer_id_is_deterministic_and_separates_parts():
    a = transfer_id("payments", "topup", 42)
    assert a == transfer_id("payments", "topup", 42)
    assert a != transfer_id("payments", "topup", 43)
    assert transfer_id("ab", "c") != transfer_id("a", "bc")
    assert transfer_id("loans", dt.date(2026, 1, 2)) == transfer_id("loans", "2026-01-02")
    with pytest.raises(TypeError):
        transfer_id("x", 1.5)
    ids = [new_transfer_id() for _ in range(1000)]
    assert len(set(ids)) == 1000 and all(i.version == 7 for i in ids)


async def test_open_account_is_idempotent_and_validated(ledger):
    owner = f"user:{uuid.uuid4()}"
    first = await ledger.open_account(owner=owner, purpose="wallet", currency="RUB", flags=DMNEC)
    again = await ledger.open_account(owner=owner, purpose="wallet", currency="RUB")
    assert again.id == first.id and again.flags == DMNEC
    assert (await ledger.find_account(owner=owner, purpose="wallet", currency="RUB")).id == first.id
    assert await ledger.find_account(owner=owner, purpose="wallet", currency="EUR") is None
    usd = await ledger.open_account(owner=owner, purpose="wallet", currency="USD")
    assert usd.id != first.id and usd.currency == "USD"
    for bad in (
        {"owner": "User 1"},
        {"purpose": "Wallet!"},
        {"currency": "XYZ1"},
        {"currency": "XYZ"},
        {"debits_limit": -1},
        {"flags": DMNEC | AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS},
        {"flags": AccountFlags.CLOSED},
    ):
        with pytest.raises(ValueError):
            await ledger.open_account(**{"owner": owner, "purpose": "other", "currency": "RUB", **bad})


async def test_assets_need_a_declared_scale(ledger):
    with pytest.raises(ValueError, match="SHARE"):
        await ledger.open_account(owner="platform", purpose="shares", currency="SHARE")
    info = await ledger.ensure_ledger("SHARE", scale=0)
    assert info.scale == 0
    account = await ledger.open_account(owner="platform", purpose="shares", currency="SHARE")
    assert account.currency == "SHARE"
    with pytest.raises(ValueError, match="scale"):
        await ledger.ensure_ledger("SHARE", scale=2)


async def test_no_overdraft_and_limits(ledger, accounts):
    cash = await accounts.open("cash")
    wallet = await accounts.funded(cash, 100)
    other = await accounts.open()
    results = await ledger.submit([move(wallet, other, 60), move(wallet, other, 60), move(wallet, other, 40)])
    assert [r.code for r in results] == [R.OK, R.EXCEEDS_CREDITS, R.OK]
    assert "account" in results[1].detail
    overdraft = await accounts.open(debits_limit=50)
    assert (await ledger.submit([move(overdraft, other, 50), move(overdraft, other, 1)]))[
        1
    ].code is R.EXCEEDS_CREDITS
    capped = await accounts.open(flags=AccountFlags.NONE, credits_limit=10)
    assert [r.code for r in await ledger.submit([move(cash, capped, 10), move(cash, capped, 1)])] == [
        R.OK,
        R.EXCEEDS_DEBITS,
    ]
    loan = await accounts.open("loan", flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
    assert (
        await ledger.transfer(
            id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=loan.id, amount=1
        )
    ).code is R.EXCEEDS_DEBITS
    # limits change at runtime and apply from the next transfer on
    await ledger.set_limits(overdraft.id, debits_limit=100)
    assert (await ledger.submit([move(overdraft, other, 50)]))[0].code is R.OK


async def test_static_rejections_are_results_and_bad_types_are_errors(ledger, accounts):
    a, b = await accounts.open(), await accounts.open()
    results = await ledger.submit(
        [
            move(a, b, 0),
            move(a, a, 5),
            NewTransfer(id=uuid.UUID(int=0), debit_account_id=a.id, credit_account_id=b.id, amount=1),
            move(a, b, 1, metadata={"rate": 1.5}),
            move(a, b, 1, code="x" * 65),
            move(a, b, 1, timeout_s=5),
            move(a, b, 2**63),
            NewTransfer(id=new_transfer_id(), debit_account_id=a.id, credit_account_id=999_999_999, amount=1),
        ]
    )
    assert [r.code for r in results] == [
        R.AMOUNT_MUST_BE_POSITIVE,
        R.ACCOUNTS_MUST_BE_DIFFERENT,
        R.ID_MUST_NOT_BE_ZERO,
        R.INVALID_FIELD,
        R.INVALID_FIELD,
        R.INVALID_FIELD,
        R.OVERFLOW,
        R.ACCOUNT_NOT_FOUND,
    ]
    assert all(not r.accepted for r in results)
    with pytest.raises(TypeError, match="amount"):
        await ledger.transfer(
            id=new_transfer_id(), debit_account_id=a.id, credit_account_id=b.id, amount="10"
        )
    with pytest.raises(TypeError, match="id"):
        await ledger.transfer(id="not-a-uuid", debit_account_id=a.id, credit_account_id=b.id, amount=10)
    with pytest.raises(TypeError):
        await ledger.submit(["a transfer"])


async def test_ledgers_do_not_mix(ledger, accounts):
    rub, usd = await accounts.open(), await accounts.open(currency="USD")
    other = await accounts.open()
    result = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=rub.id, credit_account_id=usd.id, amount=1
    )
    assert result.code is R.LEDGER_MISMATCH and "USD" in result.detail
    guarded = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=rub.id, credit_account_id=other.id, amount=1, currency="USD"
    )
    assert guarded.code is R.LEDGER_MISMATCH


async def test_idempotency_within_and_across_batches(ledger, accounts):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    first = move(cash, wallet, 10, code="topup", metadata={"payment": 7})
    results = await ledger.submit([first, first, move(cash, wallet, 11, id=first.id)])
    assert [r.code for r in results] == [R.OK, R.EXISTS, R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert results[1].transfer == results[0].transfer and "amount" in results[2].detail
    again = await ledger.submit([first])
    assert again[0].code is R.EXISTS and again[0].transfer.seq == results[0].transfer.seq
    changed = await ledger.submit(
        [move(cash, wallet, 10, id=first.id, code="topup", metadata={"payment": 8})]
    )
    assert changed[0].code is R.EXISTS_WITH_DIFFERENT_FIELDS and "metadata" in changed[0].detail
    assert (await ledger.balance(wallet.id)).posted == 10


async def test_a_failed_transfer_can_be_retried_once_funds_arrive(ledger, accounts):
    cash = await accounts.open("cash")
    wallet, shop = await accounts.funded(cash, 0), await accounts.open()
    payment = move(wallet, shop, 30)
    assert (await ledger.submit([payment]))[0].code is R.EXCEEDS_CREDITS
    await ledger.submit([move(cash, wallet, 50)])
    assert (await ledger.submit([payment]))[0].code is R.OK


async def test_pending_post_partial_and_void(ledger, accounts):
    cash = await accounts.open("cash")
    wallet, shop = await accounts.funded(cash, 1000), await accounts.open()
    hold = await ledger.transfer(
        id=new_transfer_id(),
        debit_account_id=wallet.id,
        credit_account_id=shop.id,
        amount=600,
        pending=True,
        code="card",
    )
    assert hold.created and hold.transfer.kind is TransferKind.PENDING
    balance = await ledger.balance(wallet.id)
    assert (balance.posted, balance.pending, balance.available) == (1000, -600, 400)
    # pending funds count: a second hold of 600 does not fit (Blnk #181)
    second = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=shop.id, amount=600, pending=True
    )
    assert second.code is R.EXCEEDS_CREDITS
    too_much = await ledger.post_pending(id=new_transfer_id(), pending_id=hold.id, amount=601)
    assert too_much.code is R.EXCEEDS_PENDING_AMOUNT
    post = await ledger.post_pending(id=new_transfer_id(), pending_id=hold.id, amount=250)
    assert post.created and post.transfer.code == "card" and post.transfer.amount == 250
    balance = await ledger.balance(wallet.id)
    assert (balance.posted, balance.pending, balance.available) == (750, 0, 750)
    again = await ledger.void_pending(id=new_transfer_id(), pending_id=hold.id)
    assert again.code is R.PENDING_ALREADY_RESOLVED and "posted" in again.detail
    not_pending = await ledger.post_pending(id=new_transfer_id(), pending_id=post.id)
    assert not_pending.code is R.PENDING_TRANSFER_NOT_PENDING
    missing = await ledger.void_pending(id=new_transfer_id(), pending_id=uuid.uuid4())
    assert missing.code is R.PENDING_TRANSFER_NOT_FOUND

    hold2 = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=shop.id, amount=700, pending=True
    )
    void = await ledger.void_pending(id=new_transfer_id(), pending_id=hold2.id)
    assert void.created and void.transfer.kind is TransferKind.VOID and void.transfer.amount == 700
    assert (await ledger.balance(wallet.id)).available == 750
    assert (
        await ledger.post_pending(id=new_transfer_id(), pending_id=hold2.id)
    ).code is R.PENDING_ALREADY_RESOLVED


async def test_pending_resolved_in_the_same_batch(ledger, accounts):
    cash, shop = await accounts.open("cash"), await accounts.open()
    hold = move(cash, shop, 100, pending=True)
    results = await ledger.submit(
        [
            hold,
            PostPending(id=new_transfer_id(), pending_id=hold.id, amount=40),
            VoidPending(id=new_transfer_id(), pending_id=hold.id),
        ]
    )
    assert [r.code for r in results] == [R.OK, R.OK, R.PENDING_ALREADY_RESOLVED]
    assert (await ledger.balance(shop.id)).totals == (0, 40, 0, 0)


async def test_closed_accounts_refuse_transfers_but_holds_can_be_voided(ledger, accounts):
    cash, shop = await accounts.open("cash"), await accounts.open()
    hold = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=shop.id, amount=5, pending=True
    )
    await ledger.close_account(shop.id)
    assert (await ledger.get_account(shop.id)).closed
    assert (await ledger.submit([move(cash, shop, 1)]))[0].code is R.ACCOUNT_CLOSED
    assert (await ledger.post_pending(id=new_transfer_id(), pending_id=hold.id)).code is R.ACCOUNT_CLOSED
    assert (await ledger.void_pending(id=new_transfer_id(), pending_id=hold.id)).created
    await ledger.reopen_account(shop.id)
    assert (await ledger.submit([move(cash, shop, 1)]))[0].created


async def test_pending_transfers_expire(ledger, accounts, jobs, db):
    cash = await accounts.open("cash")
    wallet, shop = await accounts.funded(cash, 100), await accounts.open()
    hold = await ledger.transfer(
        id=new_transfer_id(),
        debit_account_id=wallet.id,
        credit_account_id=shop.id,
        amount=80,
        pending=True,
        timeout_s=1,
    )
    assert hold.transfer.expires_at == hold.transfer.recorded_at + dt.timedelta(seconds=1)
    assert await jobs.run_now("ledger.expire_pending") == 0  # not yet
    # Time passes inside the test's transaction: move the hold's deadline back instead of sleeping.
    await db.execute(
        "UPDATE ledger_holds SET expires_at = expires_at - interval '1 hour' WHERE pending_id = $1", hold.id
    )
    late = await ledger.post_pending(id=new_transfer_id(), pending_id=hold.id)
    assert late.code is R.PENDING_TRANSFER_EXPIRED
    assert await jobs.run_now("ledger.expire_pending") == 1
    assert await jobs.run_now("ledger.expire_pending") == 0
    assert (await ledger.balance(wallet.id)).available == 100
    statement = await ledger.statement(wallet.id, limit=1)
    assert statement.lines[0].kind is TransferKind.EXPIRE and statement.lines[0].transfer_id == transfer_id(
        "ledger", "expire", hold.id
    )


async def test_reversals_once_and_partial(ledger, accounts):
    cash = await accounts.open("cash")
    wallet, shop = await accounts.funded(cash, 100), await accounts.open()
    paid = await ledger.transfer(
        id=new_transfer_id(),
        debit_account_id=wallet.id,
        credit_account_id=shop.id,
        amount=70,
        code="purchase",
    )
    too_much = await ledger.reverse(id=new_transfer_id(), original_id=paid.id, amount=71)
    assert too_much.code is R.EXCEEDS_ORIGINAL_AMOUNT
    refund = Reversal(id=new_transfer_id(), original_id=paid.id, amount=20)
    first = await ledger.submit([refund])
    assert (
        first[0].created and first[0].transfer.reverses_id == paid.id and first[0].transfer.code == "purchase"
    )
    assert (first[0].transfer.debit_account_id, first[0].transfer.credit_account_id) == (shop.id, wallet.id)
    assert (await ledger.submit([refund]))[0].code is R.EXISTS  # the same refund, retried (Blnk #152, #374)
    second = await ledger.reverse(id=new_transfer_id(), original_id=paid.id)
    assert second.code is R.ALREADY_REVERSED
    assert (
        await ledger.reverse(id=new_transfer_id(), original_id=first[0].id)
    ).code is R.TRANSFER_NOT_REVERSIBLE
    assert (await ledger.reverse(id=new_transfer_id(), original_id=uuid.uuid4())).code is R.TRANSFER_NOT_FOUND
    assert (await ledger.balance(wallet.id)).posted == 50
    hold = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=shop.id, amount=5, pending=True
    )
    assert (await ledger.reverse(id=new_transfer_id(), original_id=hold.id)).code is R.TRANSFER_NOT_REVERSIBLE


async def test_reversal_respects_limits(ledger, accounts):
    cash = await accounts.open("cash")
    wallet = await accounts.funded(cash, 100)
    shop = await accounts.funded(cash, 0)
    paid = await ledger.transfer(
        id=new_transfer_id(), debit_account_id=wallet.id, credit_account_id=shop.id, amount=70
    )
    await ledger.transfer(
        id=new_transfer_id(), debit_account_id=shop.id, credit_account_id=cash.id, amount=70
    )
    refund = await ledger.reverse(id=new_transfer_id(), original_id=paid.id)
    assert refund.code is R.EXCEEDS_CREDITS  # the shop already spent it


async def test_linked_chains_are_all_or_nothing(ledger, accounts):
    cash = await accounts.open("cash")
    wallet, a, b = await accounts.funded(cash, 100), await accounts.open(), await accounts.open()
    results = await ledger.submit([move(wallet, a, 60), move(wallet, b, 60)], atomic=True)
    assert [r.code for r in results] == [R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert (await ledger.balance(wallet.id)).posted == 100
    open_chain = await ledger.submit([move(wallet, a, 1), move(wallet, b, 1, linked=True)])
    assert [r.code for r in open_chain] == [R.OK, R.LINKED_EVENT_CHAIN_OPEN]
    chain = [move(wallet, a, 30, linked=True), move(wallet, b, 30)]
    assert [r.code for r in await ledger.submit(chain)] == [R.OK, R.OK]
    assert [r.code for r in await ledger.submit(chain)] == [R.EXISTS, R.EXISTS]  # a retried chain
    mixed = await ledger.submit([chain[0], move(wallet, b, 1)], atomic=True)
    assert [r.code for r in mixed] == [R.EXISTS, R.LINKED_EVENT_FAILED]  # a chain is never half new
    # a duplicate inside a failing chain is undone with it
    dup = move(wallet, a, 5)
    results = await ledger.submit([dup, dup, move(wallet, b, 10_000)], atomic=True)
    assert [r.code for r in results] == [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_FAILED, R.EXCEEDS_CREDITS]
    assert (await ledger.get_transfer(dup.id)) is None


async def test_large_submissions_are_split_at_chain_boundaries(ledger, accounts):
    from core.ledger.service import _chunks

    cash, wallet = await accounts.open("cash"), await accounts.open()
    requests = [move(cash, wallet, 1, linked=i % 3 != 2) for i in range(30)]
    chunks = _chunks(requests, 8)
    assert all(len(c) <= 8 and not c[-1].linked for c in chunks) and sum(map(len, chunks)) == 30
    with pytest.raises(ValueError, match="chain"):
        _chunks([move(cash, wallet, 1, linked=True)] * 9 + [move(cash, wallet, 1)], 8)
    ledger.settings.batch_max = 8
    results = await ledger.submit(requests)
    assert all(r.created for r in results) and (await ledger.balance(wallet.id)).posted == 30


async def test_many_coroutines_share_batches(ledger, accounts):
    cash, wallet = await accounts.open("cash"), await accounts.open()
    before = ledger.group_commit.batches
    results = await asyncio.gather(
        *(
            ledger.transfer(
                id=new_transfer_id(), debit_account_id=cash.id, credit_account_id=wallet.id, amount=1
            )
            for _ in range(50)
        )
    )
    assert all(r.created for r in results)
    assert ledger.group_commit.batches - before < 50
    # the same id from many coroutines at once: one ok, the rest exists
    same = move(cash, wallet, 2)
    codes = [r[0].code for r in await asyncio.gather(*(ledger.submit([same]) for _ in range(10)))]
    assert codes.count(R.OK) == 1 and codes.count(R.EXISTS) == 9
    assert (await ledger.balance(wallet.id)).posted == 52


async def test_large_batches_are_staged_with_copy(ledger, accounts, db):
    from core.ledger.apply import COPY_FROM

    cash = await accounts.open("cash")
    wallets = [await accounts.funded(cash, 10_000) for _ in range(10)]
    holds = [move(w, cash, 5, pending=True) for w in wallets]
    payments = [move(wallets[i % 10], wallets[(i + 1) % 10], 1) for i in range(COPY_FROM * 2)]
    assert all(r.created for r in await ledger.submit(holds + payments))
    again = await ledger.submit(
        [PostPending(id=new_transfer_id(), pending_id=h.id) for h in holds] + payments
    )
    assert [r.code for r in again] == [R.OK] * 10 + [R.EXISTS] * len(payments)
    async with db.transaction():  # twice in one transaction: the staging tables start empty each time
        first = await ledger.submit([move(cash, wallets[0], 1) for _ in range(COPY_FROM)])
        second = await ledger.submit([move(cash, wallets[1], 1) for _ in range(COPY_FROM)])
    assert all(r.created for r in first + second)
    assert (await ledger.balance(cash.id)).posted == -10 * 10_000 + 10 * 5 - 2 * COPY_FROM
    report = await ledger.verify()
    assert report.ok, report.faults


async def test_copy_and_array_writes_store_the_same_fields(ledger, accounts, monkeypatch):
    """Every field kind (metadata, timeout, value date, references, codes) through both write paths."""
    import core.ledger.apply as apply

    cash = await accounts.open("cash")
    wallet = await accounts.funded(cash, 10_000)
    large = apply.COPY_FROM  # read before the arrays run patches it

    def mixed(tag: str) -> list:
        firsts = [
            move(cash, wallet, 7, code=f"{tag}-meta", metadata={"n": 1, "text": "ünï", "list": [1, None]}),
            move(wallet, cash, 9, code=tag, pending=True, timeout_s=3600),
            move(wallet, cash, 4, code=tag, pending=True),
            move(cash, wallet, 3, code=tag, value_date=dt.date(2026, 3, 1)),
        ]
        seconds = [
            PostPending(id=new_transfer_id(), pending_id=firsts[1].id, amount=5, metadata={"why": "post"}),
            VoidPending(id=new_transfer_id(), pending_id=firsts[2].id),
            Reversal(id=new_transfer_id(), original_id=firsts[0].id, amount=2, code=f"{tag}-back"),
        ]
        padding = [move(cash, wallet, 1, code=tag) for _ in range(large)]
        return [*firsts, *padding, *seconds]

    def fields(transfer) -> tuple:
        return (
            transfer.kind,
            transfer.amount,
            transfer.code.split("-", 1)[-1] if "-" in transfer.code else "",
            transfer.metadata,
            transfer.timeout_s,
            transfer.value_date if transfer.value_date == dt.date(2026, 3, 1) else None,
            transfer.pending_id is not None,
            transfer.reverses_id is not None,
        )

    stored = {}
    for path, copy_from in (("copy", large), ("arrays", 10**6)):
        monkeypatch.setattr(apply, "COPY_FROM", copy_from)
        requests = mixed(path)
        results = await ledger.submit(requests)
        assert [r.code for r in results] == [R.OK] * len(requests), [r.detail for r in results]
        transfers = [await ledger.get_transfer(r.id) for r in requests]
        assert [t.debit_totals for t in transfers] == [r.transfer.debit_totals for r in results]
        assert [t.recorded_at for t in transfers] == [r.transfer.recorded_at for r in results]
        stored[path] = [fields(t) for t in transfers]
    assert stored["copy"] == stored["arrays"]
    report = await ledger.verify()
    assert report.ok, report.faults
