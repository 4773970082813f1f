"""Bad input is a 4xx naming the field, and nothing changes."""

import pytest

from core.users.testing import make_user
from tests.cooperative.helpers import PROGRAM, balance, top_up


@pytest.fixture
async def member(platform, client_as):
    admin = await client_as("cooperative.manage")
    assert (await admin.post("/api/v1/admin/cooperative/programs", json=PROGRAM)).status_code == 201
    user = await make_user(platform)
    await top_up(platform, user.id, 1_000_00)
    return user, await client_as(user_id=user.id), admin


BAD_PROGRAMS = [
    ({"code": "Bad Code"}, "code"),
    ({"name": ""}, "name"),
    ({"min_target": "abc"}, "min_target"),
    ({"max_target": "50000"}, "max_target"),
    ({"min_share": "1.5"}, "min_share"),
    ({"min_share": "0.1234567"}, "min_share"),
    ({"reserve_ratio": "-0.1"}, "reserve_ratio"),
    ({"min_membership_days": "ninety"}, "min_membership_days"),
    ({"valuation_day": 31}, "valuation_day"),
    ({"instalment_count": 0}, "instalment_count"),
]


async def test_a_bad_program_names_the_field(member):
    _user, _http, admin = member
    for body, field in BAD_PROGRAMS:
        answer = await admin.post("/api/v1/admin/cooperative/programs", json={**PROGRAM, "code": "other", **body})
        assert answer.status_code == 400 and field in answer.text, (body, answer.text)
    assert [p["code"] for p in (await admin.get("/api/v1/admin/cooperative/programs")).json()] == ["flat"]


async def test_a_duplicate_code_is_a_conflict(member):
    _user, _http, admin = member
    assert (await admin.post("/api/v1/admin/cooperative/programs", json=PROGRAM)).status_code == 409


async def test_bad_member_input_names_the_field_and_moves_nothing(platform, member):
    user, http, _admin = member
    base = "/api/v1/cooperative/programs/flat"
    for target in ("abc", "-5", "99999.99", "1000000.01", "1.001"):
        answer = await http.post(f"{base}/members", json={"target": target})
        assert answer.status_code in (400, 422) and "target" in answer.text, (target, answer.text)
    assert (await http.post("/api/v1/cooperative/programs/nope/members", json={"target": "200000"})).status_code == 404
    assert (await http.post(f"{base}/contributions", json={"amount": "10", "idempotency_key": "k"})).status_code == 404
    assert (await http.post(f"{base}/members", json={"target": "200000"})).status_code == 201
    for body, field in (({"amount": "x", "idempotency_key": "k"}, "amount"), ({"amount": "0", "idempotency_key": "k"},
                        "amount"), ({"amount": "10"}, "idempotency_key")):
        answer = await http.post(f"{base}/contributions", json=body)
        assert answer.status_code in (400, 422) and field in answer.text, answer.text
    too_much = await http.post(f"{base}/contributions", json={"amount": "1000.01", "idempotency_key": "k"})
    assert too_much.status_code == 409 and "wallet" in too_much.text
    assert (await http.post(f"{base}/repayments", json={"amount": "1", "idempotency_key": "r"})).status_code == 409
    assert (await http.post(f"{base}/contributions", content="[1]", headers={"content-type": "application/json"})
            ).status_code in (400, 422)
    assert await balance(platform, f"user:{user.id}", "wallet") == 1_000_00
    mine = (await http.get(f"{base}/membership")).json()
    assert mine["balance_minor"] == 0


async def test_the_same_key_for_another_amount_is_a_conflict(member):
    _user, http, _admin = member
    base = "/api/v1/cooperative/programs/flat"
    await http.post(f"{base}/members", json={"target": "200000"})
    assert (await http.post(f"{base}/contributions", json={"amount": "10", "idempotency_key": "k"})).status_code == 201
    assert (await http.post(f"{base}/contributions", json={"amount": "11", "idempotency_key": "k"})).status_code == 409


async def test_pages_need_login_and_permission(client, member):
    assert (await client.get("/cooperative/flat")).status_code == 200
    assert (await client.get("/cooperative/Bad!")).status_code == 404
    assert (await client.get("/api/v1/admin/cooperative/valuations")).status_code in (401, 403)
    assert (await client.post("/api/v1/cooperative/programs/flat/members", json={"target": "200000"})).status_code in (
        401, 403)


async def test_a_withdrawal_returns_money_and_costs_score(platform, member, business_date):
    import datetime as dt

    user, http, _admin = member
    base = "/api/v1/cooperative/programs/flat"
    start = await business_date.today()
    await http.post(f"{base}/members", json={"target": "200000"})
    assert (await http.post(f"{base}/contributions", json={"amount": "1000", "idempotency_key": "in"})).status_code == 201
    await business_date.set(start + dt.timedelta(days=10))
    too_much = await http.post(f"{base}/withdrawals", json={"amount": "1000.01", "idempotency_key": "out"})
    assert too_much.status_code == 400 and "amount" in too_much.text
    out = await http.post(f"{base}/withdrawals", json={"amount": "400", "idempotency_key": "out"})
    assert out.status_code == 201, out.text
    assert out.json()["balance_minor"] == 600_00
    await business_date.set(start + dt.timedelta(days=20))
    # 1 000 × 20 − 400 × 10 = 16 000 ruble-days over 200 000
    assert (await http.get(f"{base}/membership")).json()["score"] == "0.080000"
    assert await balance(platform, f"user:{user.id}", "wallet") == 400_00


async def test_the_forecast(member):
    _user, http, _admin = member
    answer = await http.get("/api/v1/cooperative/programs/flat/forecast", params={"target": "200000", "monthly": "10000"})
    assert answer.status_code == 200 and answer.json()["months_to_eligibility"] == 10
    page = await http.get("/cooperative/flat", params={"target": "200000", "monthly": "10000"})
    assert page.status_code == 200 and 'data-months="10"' in page.text
    for params, field in (({"target": "1", "monthly": "1"}, "target"), ({"target": "200000", "monthly": "x"}, "monthly")):
        answer = await http.get("/api/v1/cooperative/programs/flat/forecast", params=params)
        assert answer.status_code == 400 and field in answer.text
        assert (await http.get("/cooperative/flat", params=params)).status_code == 200
