"""Bad input is a 4xx naming the field, and changes nothing; the queue, the rules, the back office."""

import contextlib

import pytest

from core.testing import app_client, make_identity
from core.users.testing import latest_code, make_user
from core.web.app import create_app
from plugins.lending.service import LendingService
from tests.lending.helpers import PAYDAY, books, lending_with_fund


@pytest.fixture
async def manual_platform(make_platform):
    return await make_platform(core={"web": {"default_locale": "en"}}, settings={"lending": {"auto_approve": False}})


async def count(platform, table):
    return await platform.db.fetchval(f"SELECT count(*) FROM {table}")


BAD_APPLICATIONS = [
    ({"amount": "abc", "term_days": 30}, "amount"),
    ({"amount": "100.001", "term_days": 30}, "amount"),
    ({"amount": "-5", "term_days": 30}, "amount"),
    ({"term_days": 30}, "amount"),
    ({"amount": "100000", "term_days": 30}, "amount"),
    ({"amount": "5000", "term_days": "soon"}, "term_days"),
    ({"amount": "5000", "term_days": 60}, "term_days"),
    ({"amount": "5000", "term_days": 10, "product": "nope"}, None),
    ({"amount": "5000", "term_days": 10, "idempotency_key": "x" * 101}, "idempotency_key"),
]


async def test_a_bad_application_names_the_field(platform, client_as):
    await lending_with_fund(platform)
    http = await client_as(user_id=(await make_user(platform)).id)
    for body, field in BAD_APPLICATIONS:
        response = await http.post("/api/v1/lending/applications", json=body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert field is None or field in response.text, (body, response.text)
    assert await count(platform, "lending_applications") == 0


async def test_calculator_and_products_refuse_bad_input(platform, client, client_as):
    await lending_with_fund(platform)
    assert (await client.get("/api/v1/lending/calculate", params={"term_days": 30})).status_code == 400
    page = await client.get("/lending/calculator", params={"amount": "10000", "term_days": "99"})
    assert page.status_code == 200 and "from 7 to 30 days" in page.text
    admin = await client_as("lending.products")
    for change, field in (({"daily_rate": "0.01"}, "daily_rate"), ({"penalty_annual_rate": "0.5"}, "penalty_annual_rate"),
                          ({"max_amount": "10"}, "max_amount"), ({"audience": "vip"}, "audience"),
                          ({"code": "payday"}, "code"), ({"colour": "red"}, "colour")):
        response = await admin.post("/api/v1/admin/lending/products", json={**PAYDAY, **change})
        assert response.status_code == 400 and field in response.text, (change, response.text)
    assert await count(platform, "lending_products") == 1
    anonymous = await client.post("/api/v1/lending/applications", json={"amount": "5000", "term_days": 10})
    assert anonymous.status_code == 401


async def test_payments_refuse_bad_input_and_change_nothing(platform, client_as):
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    loan = await service._disburse((await service.apply(user.id, 5_000_00, 10))["id"])
    http = await client_as(user_id=user.id)
    before = await books(platform, user.id, loan["id"])
    url = f"/api/v1/lending/loans/{loan['id']}"
    for body, field in (({"amount": "6000", "idempotency_key": "a"}, "amount"), ({"amount": "1"}, "idempotency_key"),
                        ({"amount": "0", "idempotency_key": "a"}, "amount")):
        response = await http.post(f"{url}/repay", json=body)
        assert response.status_code == 400 and field in response.text, response.text
    extend = await http.post(f"{url}/extend", json={"idempotency_key": "e"})
    assert extend.status_code == 409, "no interest owed on the day of disbursement"
    stranger = await client_as(user_id=(await make_user(platform)).id)
    assert (await stranger.post(f"{url}/repay", json={"idempotency_key": "s"})).status_code == 404
    assert (await stranger.get(url)).status_code == 404
    assert await books(platform, user.id, loan["id"]) == before
    assert await count(platform, "lending_payments") == 0
    second = await http.post("/api/v1/lending/applications", json={"amount": "5000", "term_days": 10})
    assert second.json()["status"] == "rejected" and "not repaid" in second.json()["decision_reason"]


async def test_the_queue_waits_for_a_person(manual_platform):
    platform = manual_platform
    stack = contextlib.AsyncExitStack()
    app = create_app(platform)

    async def client_as(*permissions, user_id=None):
        identity = make_identity(*permissions, user_id=user_id)
        return await stack.enter_async_context(app_client(platform, identity=identity, app=app))

    async with stack:
        await _queue(platform, client_as)


async def _queue(platform, client_as):
    await lending_with_fund(platform)
    user = await make_user(platform)
    http = await client_as(user_id=user.id)
    application = (await http.post("/api/v1/lending/applications", json={"amount": "5000", "term_days": 10})).json()
    assert application["status"] == "submitted"
    early = await http.post(f"/api/v1/lending/applications/{application['id']}/code")
    assert early.status_code == 409
    sign = await http.post(f"/api/v1/lending/applications/{application['id']}/sign", json={})
    assert sign.status_code == 400 and "code" in sign.text
    viewer = await client_as("lending.view")
    queue = (await viewer.get("/api/v1/admin/lending/applications", params={"status": "submitted"})).json()
    assert [a["id"] for a in queue] == [application["id"]]
    assert (await viewer.get("/api/v1/admin/lending/applications", params={"status": "odd"})).status_code == 400
    assert (await viewer.post(f"/api/v1/admin/lending/applications/{application['id']}/approve")).status_code == 403
    page = await viewer.get("/admin/lending/applications")
    assert page.status_code == 200 and application["id"] in page.text
    checker = await client_as("lending.decide", "lending.view")
    approved = await checker.post(f"/api/v1/admin/lending/applications/{application['id']}/approve", json={})
    assert approved.json()["status"] == "approved"
    again = await checker.post(f"/api/v1/admin/lending/applications/{application['id']}/reject", json={})
    assert again.status_code == 409
    assert (await http.post(f"/api/v1/lending/applications/{application['id']}/code")).status_code == 200
    service = platform.service(LendingService)
    assert (await service.application(application["id"]))["challenge_id"] is not None
    cancelled = await http.post(f"/api/v1/lending/applications/{application['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert (await http.post(f"/api/v1/lending/applications/{application['id']}/cancel")).status_code == 409


async def test_pages_render(platform, client_as):
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    loan = await service._disburse((await service.apply(user.id, 5_000_00, 10))["id"])
    http = await client_as(user_id=user.id)
    for path in ("/lending", "/lending/loans", f"/lending/loans/{loan['id']}",
                 f"/lending/applications/{loan['application_id']}"):
        assert (await http.get(path)).status_code == 200, path
    admin = await client_as("lending.view", "lending.products")
    expected = {"/admin/lending/products": "payday", "/admin/lending/loans?status=active": str(loan["id"]),
                "/admin/lending/loans": str(loan["id"])}
    for path, text in expected.items():
        response = await admin.get(path)
        assert response.status_code == 200 and text in response.text, path


async def test_the_pages_apply_and_sign_with_forms(platform, client_as):
    await lending_with_fund(platform)
    user = await make_user(platform)
    http = await client_as(user_id=user.id)
    quote = await http.get("/lending/calculator", params={"amount": "10000", "term_days": "30"})
    assert quote.status_code == 200 and "292.000%" in quote.text and 'action="/lending/apply"' in quote.text
    applied = await http.post("/lending/apply", data={"amount": "10000", "term_days": "30", "idempotency_key": "f"})
    assert applied.status_code == 303, applied.text
    page = applied.headers["location"]
    sent = await http.post(f"{page}/code")
    assert sent.status_code == 303 and sent.headers["location"].endswith("code_sent=1")
    assert 'name="code"' in (await http.get(sent.headers["location"])).text
    signed = await http.post(f"{page}/sign", data={"code": await latest_code(platform, user.login)})
    assert signed.status_code == 303 and signed.headers["location"].startswith("/lending/loans/")
    loan_page = await http.get(signed.headers["location"])
    assert loan_page.status_code == 200 and 'data-status="active"' in loan_page.text
