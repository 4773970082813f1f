"""The admin JSON API: permissions, results, and clear 4xx answers for bad input."""

import uuid

import pytest

from core.ledger import new_transfer_id

API = "/api/v1/admin/ledger"


@pytest.fixture
async def admin(client_as):
    return await client_as("ledger.view", "ledger.accounts", "ledger.transfer")


async def open_account(http, **body):
    response = await http.post(
        f"{API}/accounts",
        json={"owner": f"user:{uuid.uuid4()}", "purpose": "wallet", "currency": "RUB", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_permissions_are_required(client, client_as):
    assert (await client.get(f"{API}/ledgers")).status_code == 401
    viewer = await client_as("ledger.view")
    assert (await viewer.get(f"{API}/ledgers")).status_code == 200
    denied = await viewer.post(f"{API}/transfers", json={"transfers": []})
    assert denied.status_code == 403 and "ledger.transfer" in denied.json()["detail"]
    assert (await viewer.post(f"{API}/accounts", json={})).status_code == 403


async def test_accounts_transfers_balances_statement(admin):
    cash = await open_account(admin, purpose="cash")
    wallet = await open_account(admin, flags=["debits_must_not_exceed_credits"], debits_limit=None)
    assert wallet["flags"] == ["debits_must_not_exceed_credits"] and wallet["posted"] == 0
    again = await admin.post(
        f"{API}/accounts", json={"owner": wallet["owner"], "purpose": "wallet", "currency": "RUB"}
    )
    assert again.json()["id"] == wallet["id"]

    topup, hold = str(new_transfer_id()), str(new_transfer_id())
    response = await admin.post(
        f"{API}/transfers",
        json={
            "transfers": [
                {
                    "type": "transfer",
                    "id": topup,
                    "debit_account_id": cash["id"],
                    "credit_account_id": wallet["id"],
                    "amount": 10000,
                    "code": "topup",
                    "metadata": {"payment": "p-1"},
                },
                {
                    "type": "transfer",
                    "id": hold,
                    "debit_account_id": wallet["id"],
                    "credit_account_id": cash["id"],
                    "amount": 2500,
                    "pending": True,
                },
                {
                    "type": "transfer",
                    "id": str(new_transfer_id()),
                    "debit_account_id": wallet["id"],
                    "credit_account_id": cash["id"],
                    "amount": 9000,
                },
            ]
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["result"] for r in results] == ["ok", "ok", "exceeds_credits"]
    assert results[0]["transfer"]["credit_totals"]["credits_posted"] == 10000
    assert results[2]["transfer"] is None and results[2]["detail"]

    posted = await admin.post(
        f"{API}/transfers",
        json={
            "transfers": [
                {"type": "post_pending", "id": str(new_transfer_id()), "pending_id": hold, "amount": 2000},
                {"type": "reversal", "id": str(new_transfer_id()), "original_id": topup, "amount": 100},
            ]
        },
    )
    assert [r["result"] for r in posted.json()["results"]] == ["ok", "ok"]

    balance = (await admin.get(f"{API}/accounts/{wallet['id']}/balance")).json()
    assert (balance["posted"], balance["pending"], balance["available"]) == (7900, 0, 7900)
    past = await admin.get(
        f"{API}/accounts/{wallet['id']}/balance", params={"at": results[0]["transfer"]["recorded_at"]}
    )
    assert past.status_code == 200 and past.json()["posted"] in (10000, 7900)
    owner = (await admin.get(f"{API}/balances", params={"owner": wallet["owner"]})).json()
    assert [b["posted"] for b in owner] == [7900]

    page = (await admin.get(f"{API}/accounts/{wallet['id']}/statement", params={"limit": 2})).json()
    assert len(page["lines"]) == 2 and page["next_cursor"]
    rest = (
        await admin.get(f"{API}/accounts/{wallet['id']}/statement", params={"before": page["next_cursor"]})
    ).json()
    assert [line["amount"] for line in page["lines"] + rest["lines"]] == [-100, -2000, -2500, 10000]
    assert rest["next_cursor"] is None and rest["lines"][-1]["metadata"] == {"payment": "p-1"}

    transfer = (await admin.get(f"{API}/transfers/{topup}")).json()
    assert transfer["code"] == "topup" and transfer["kind"] == "posted"
    listing = (await admin.get(f"{API}/accounts", params={"owner": wallet["owner"]})).json()
    assert [a["id"] for a in listing["accounts"]] == [wallet["id"]]

    changed = await admin.patch(f"{API}/accounts/{wallet['id']}", json={"debits_limit": 500, "closed": True})
    assert (
        changed.status_code == 200
        and changed.json()["debits_limit"] == 500
        and "closed" in changed.json()["flags"]
    )
    reopened = await admin.patch(f"{API}/accounts/{wallet['id']}", json={"closed": False})
    assert "closed" not in reopened.json()["flags"] and reopened.json()["debits_limit"] == 500


async def test_trial_balance_json_and_csv(admin):
    cash = await open_account(admin, purpose="api-cash", currency="EUR")
    wallet = await open_account(admin, currency="EUR")
    await admin.post(
        f"{API}/transfers",
        json={
            "transfers": [
                {
                    "type": "transfer",
                    "id": str(new_transfer_id()),
                    "debit_account_id": cash["id"],
                    "credit_account_id": wallet["id"],
                    "amount": 1234,
                }
            ]
        },
    )
    trial = (await admin.get(f"{API}/trial-balance", params={"currency": "EUR"})).json()
    assert trial["balanced"] and trial["totals"]["debits_posted"] == trial["totals"]["credits_posted"]
    csv = await admin.get(f"{API}/trial-balance.csv", params={"currency": "EUR"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.text.splitlines()[0].startswith("account_id,owner,purpose") and "12.34" in csv.text
    assert csv.text.splitlines()[-1].startswith("TOTAL,")
    assert (await admin.get(f"{API}/trial-balance.csv", params={"currency": "XXX"})).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("post", "/accounts", {"owner": "user:1", "purpose": "wallet", "currency": "XYZ"}, 400, "currency"),
        ("post", "/accounts", {"owner": "User One", "purpose": "wallet", "currency": "RUB"}, 400, "owner"),
        (
            "post",
            "/accounts",
            {"owner": "user:1", "purpose": "wallet", "currency": "RUB", "flags": ["nope"]},
            400,
            "flags",
        ),
        (
            "post",
            "/accounts",
            {"owner": "user:1", "purpose": "wallet", "currency": "RUB", "debits_limit": -1},
            400,
            "debits_limit",
        ),
        ("post", "/transfers", {"transfers": []}, 400, "transfers"),
        (
            "post",
            "/transfers",
            {
                "transfers": [
                    {
                        "type": "transfer",
                        "id": "x",
                        "debit_account_id": 1,
                        "credit_account_id": 2,
                        "amount": 1,
                    }
                ]
            },
            400,
            "id",
        ),
        (
            "post",
            "/transfers",
            {
                "transfers": [
                    {
                        "type": "transfer",
                        "id": str(uuid.uuid4()),
                        "debit_account_id": 1,
                        "credit_account_id": 2,
                        "amount": 1.5,
                    }
                ]
            },
            400,
            "amount",
        ),
        (
            "post",
            "/transfers",
            {
                "transfers": [
                    {
                        "type": "transfer",
                        "id": str(uuid.uuid4()),
                        "debit_account_id": 1,
                        "credit_account_id": 2,
                        "amount": "100",
                    }
                ]
            },
            400,
            "amount",
        ),
        ("post", "/transfers", {"transfers": [{"type": "refund", "id": str(uuid.uuid4())}]}, 400, "type"),
        ("get", "/accounts/99999999999999999999", None, 404, "account"),
        ("get", "/accounts/123456789/statement", None, 404, "account"),
        ("get", "/accounts/1/balance?at=2026-01-01T00:00:00", None, 400, "time zone"),
        ("get", "/accounts?limit=5000", None, 400, "limit"),
        ("get", f"/transfers/{uuid.uuid4()}", None, 404, "transfer"),
        ("get", "/transfers/not-a-uuid", None, 404, ""),
        ("get", "/trial-balance", None, 400, "currency"),
    ],
)
async def test_bad_input_gets_a_clear_4xx(admin, method, path, body, status, says):
    response = await getattr(admin, method)(f"{API}{path}", **({"json": body} if body is not None else {}))
    assert response.status_code == status, response.text
    assert says in response.text


async def test_bad_statement_cursor_is_a_400(admin):
    wallet = await open_account(admin)
    response = await admin.get(f"{API}/accounts/{wallet['id']}/statement", params={"before": "'; drop table"})
    assert response.status_code == 400 and "before" in response.json()["detail"]
    far = await admin.get(f"{API}/accounts/{wallet['id']}/statement", params={"before": f"{10**19}.1"})
    assert far.status_code == 400


async def test_balance_at_the_ends_of_time_is_not_a_server_error(admin):
    wallet = await open_account(admin)
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        response = await admin.get(f"{API}/accounts/{wallet['id']}/balance", params={"at": at})
        assert response.status_code == 200, (at, response.text)
        assert response.json()["posted"] == 0
