"""Balances per currency and the history of each account, from the ledger; only one's own."""

from core.ledger import Ledger, new_transfer_id
from core.testing import app_client
from core.users.testing import make_user, sign_in


async def fund(platform, user, amounts, currency="RUB"):
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose="test_funding", currency=currency)
    wallet = await ledger.open_account(owner=f"user:{user.id}", purpose="wallet", currency=currency)
    for amount in amounts:
        result = await ledger.transfer(
            id=new_transfer_id(),
            debit_account_id=source.id,
            credit_account_id=wallet.id,
            amount=amount,
            code="topup",
        )
        assert result.accepted, result
    return wallet


async def test_a_new_customer_sees_a_zero_balance(client, platform):
    user = await make_user(platform)
    await sign_in(client, user.login)
    page = await client.get("/account")
    assert page.status_code == 200 and 'data-currency="RUB"' in page.text
    assert "0,00" in page.text or "0.00" in page.text
    assert (await client.get("/api/v1/users/me/balances")).json() == {
        "available": True,
        "accounts": [],
        "totals": [],
    }


async def test_balances_per_currency_and_paged_history(client, platform):
    user = await make_user(platform)
    rub = await fund(platform, user, [100_00 + i for i in range(30)])
    await fund(platform, user, [5_00], currency="USD")
    await sign_in(client, user.login)
    totals = {t["currency"]: t for t in (await client.get("/api/v1/users/me/balances")).json()["totals"]}
    assert (
        totals["RUB"]["available"] == sum(100_00 + i for i in range(30)) and totals["USD"]["posted"] == 5_00
    )
    page = await client.get("/account")
    assert "USD" in page.text and f"/account/history/{rub.id}" in page.text
    first = await client.get(f"/account/history/{rub.id}")
    assert first.status_code == 200 and first.text.count("<tr><td>") == 25 and "?before=" in first.text
    statement = (
        await client.get(f"/api/v1/users/me/accounts/{rub.id}/statement", params={"limit": 20})
    ).json()
    assert len(statement["lines"]) == 20 and statement["lines"][0]["amount"] == 100_29
    assert statement["lines"][0]["balance"] == totals["RUB"]["posted"], "running balance, newest first"
    older = (
        await client.get(
            f"/api/v1/users/me/accounts/{rub.id}/statement", params={"before": statement["next_cursor"]}
        )
    ).json()
    assert len(older["lines"]) == 10 and older["next_cursor"] is None
    bad = await client.get(f"/api/v1/users/me/accounts/{rub.id}/statement", params={"before": "garbage"})
    assert bad.status_code == 400


async def test_another_users_account_is_not_found(client, platform):
    from core.access.testing import assert_no_idor

    owner = await make_user(platform)
    wallet = await fund(platform, owner, [42_00])
    stranger = await make_user(platform)
    async with app_client(platform, app=client.app) as as_owner:
        await sign_in(as_owner, owner.login)
        await sign_in(client, stranger.login)
        await assert_no_idor(
            client.app,
            owner=as_owner,
            intruder=client,
            ids={"account_id": wallet.id},
            leak_markers=["42,00", "42.00"],
        )
    platform_account = (await platform.service(Ledger).accounts(owner="platform"))[0]
    assert (await client.get(f"/account/history/{platform_account.id}")).status_code == 404


async def test_pages_degrade_without_a_ledger(client, platform, monkeypatch):
    import core.users.account as account

    monkeypatch.setattr(account, "ledger_of", lambda platform: None)
    user = await make_user(platform)
    await sign_in(client, user.login)
    page = await client.get("/account")
    assert page.status_code == 200 and "not available" in page.text
    assert (await client.get("/api/v1/users/me/balances")).json()["available"] is False
    assert (await client.get("/account/history/1")).status_code == 404
