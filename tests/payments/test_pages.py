"""The customer's pages and API, the callback endpoint's edges, the admin screens."""

import re
import uuid

from core.money import format_money
from core.testing import app_client, make_identity
from plugins.payments.emulation import Mode
from plugins.payments.states import Status


async def test_topup_form_lists_the_gateways_and_refuses_bad_amounts(world):
    page = await world.customer.get("/payments/topup")
    assert page.status_code == 200
    for title in ("Fondy", "WayForPay", "Uniteller", "Bank transfer"):
        assert title in page.text
    bad = await world.customer.post("/payments/topup", data={"amount": "12,345.678", "gateway": "fondy"})
    assert bad.status_code == 422 and "amount" in bad.text
    too_small = await world.customer.post("/payments/topup", data={"amount": "1", "gateway": "fondy"})
    assert too_small.status_code == 422 and "between" in too_small.text


async def test_a_form_post_provider_gets_its_own_form_action_in_the_page_policy(world):
    start = await world.customer.post("/payments/topup", data={"amount": "150", "gateway": "wayforpay"})
    assert start.status_code == 303 and start.headers["location"].endswith("/pay")
    page = await world.customer.get(start.headers["location"])
    assert page.status_code == 200
    assert f"form-action 'self' {world.sandbox.urls['wayforpay']}" in page.headers["content-security-policy"]
    assert 'id="go-form"' in page.text and 'name="merchantSignature"' in page.text
    # The page is one of ours: its sign-out form carries our CSRF token, not litestar's escaped one.
    assert "&lt;input" not in page.text and 'name="csrf_token"' in page.text


async def test_a_redirect_provider_gets_a_link_and_the_return_settles_the_payment(world):
    start = await world.customer.post("/payments/topup", data={"amount": "150", "gateway": "fondy"})
    page = await world.customer.get(start.headers["location"])
    link = re.search(r'id="go-link" href="([^"]+)"', page.text).group(1)
    payment_id = uuid.UUID(start.headers["location"].split("/")[2])
    world.sandbox.emulators["fondy"].set_modes([Mode.DELAYED_CALLBACK])
    from core.contracts.payments import Redirect
    from plugins.payments.emulation import HostedPageCustomer

    back = await HostedPageCustomer().pay(Redirect(link.replace("&amp;", "&")))
    assert back.action.endswith(f"/payments/return/{payment_id}") and back.method == "POST"
    # The browser comes back before the (delayed) callback: the return asks Fondy itself.
    async with app_client(world.platform, app=world.app) as anonymous:
        returned = await anonymous.post(f"/payments/return/{payment_id}", data=dict(back.fields))
    assert returned.status_code == 303 and returned.headers["location"] == f"/payments/{payment_id}"
    assert (await world.payments.get(payment_id)).status is Status.SUCCEEDED
    await world.sandbox.idle()  # the late callback is a harmless duplicate
    assert (await world.balance()).minor == 15000
    status = await world.customer.get(f"/payments/{payment_id}")
    assert 'data-status="succeeded"' in status.text


async def test_the_api_starts_a_top_up_and_explains_what_is_wrong(world):
    created = await world.customer.post("/api/v1/payments/topups", json={"amount": "250.00", "gateway": "uniteller",
                                                                         "idempotency_key": "k1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending" and body["pay_url"] == f"/payments/{body['id']}/pay"
    again = await world.customer.post("/api/v1/payments/topups", json={"amount": "250.00", "gateway": "uniteller",
                                                                       "idempotency_key": "k1"})
    assert again.json()["id"] == body["id"]
    unknown = await world.customer.post("/api/v1/payments/topups", json={"amount": "1", "gateway": "paypal"})
    assert unknown.status_code == 404 and "paypal" in unknown.json()["detail"]
    for amount in ("ten", "1e999999"):
        bad = await world.customer.post("/api/v1/payments/topups", json={"amount": amount, "gateway": "fondy"})
        assert bad.status_code == 422 and bad.json()["detail"].startswith("amount")
    extra = await world.customer.post("/api/v1/payments/topups", json={"amount": "10", "gateway": "fondy", "x": 1})
    assert extra.status_code == 400
    mine = await world.customer.get("/api/v1/payments/payments")
    assert [p["id"] for p in mine.json()] == [body["id"]]
    other = make_identity(user_id=uuid.uuid4())
    async with app_client(world.platform, identity=other, app=world.app) as stranger:
        assert (await stranger.get(f"/api/v1/payments/payments/{body['id']}")).status_code == 404


async def test_the_callback_endpoint_never_fails_with_a_500(world):
    post = world.customer.post
    assert (await post("/api/v1/payments/callbacks/paypal", content=b"x")).status_code == 404
    huge = b"a=" + b"x" * 70000
    assert (await post("/api/v1/payments/callbacks/fondy", content=huge)).status_code == 413
    assert (await world.customer.get("/api/v1/payments/callbacks/fondy")).status_code == 405
    for body in (b"\xff\xfe", b"{}", b'{"order_id": "not-a-uuid", "signature": "00"}', b"[1,2]",
                 b'{"response": {"order_id": []}}', b"Order_ID=%00&Status=paid&Signature=A"):
        for gateway in ("fondy", "wayforpay", "uniteller", "bank_transfer"):
            reply = await post(f"/api/v1/payments/callbacks/{gateway}", content=body,
                               headers={"content-type": "application/json"})
            assert 400 <= reply.status_code < 500, (gateway, body, reply.status_code)
    refused = await world.payments.store.callbacks(verdicts=["forged", "malformed", "unknown_payment"], limit=100)
    assert len(refused) == 24 and all(r["remote_addr"] == "127.0.0.1" for r in refused)


async def test_admin_screens_need_their_permissions(world):
    payment = await world.funded("300", gateway="wayforpay")
    assert (await world.customer.get("/admin/payments")).status_code == 403
    async with app_client(world.platform, identity=make_identity("payments.view"), app=world.app) as staff:
        listing = await staff.get("/admin/payments")
        assert listing.status_code == 200 and str(payment.id) in listing.text
        detail = await staff.get(f"/admin/payments/{payment.id}")
        assert detail.status_code == 200 and "status_changed" in detail.text
        assert (await staff.get("/admin/payments/callbacks")).status_code == 200
        assert (await staff.get("/admin/payments/withdrawals")).status_code == 200
        assert (await staff.get("/admin/payments/reconciliation")).status_code == 200
        assert (await staff.post(f"/admin/payments/{payment.id}/check")).status_code == 403
        api = await staff.get(f"/api/v1/admin/payments/{payment.id}")
        assert api.status_code == 200 and api.json()["events"]


async def test_the_wallet_shows_balance_history_and_saved_cards(world):
    await world.funded("1200", gateway="fondy", save_card=True)
    page = await world.customer.get("/payments")
    assert page.status_code == 200
    assert format_money(120000, "RUB", "ru") in page.text
    assert "444455XXXXXX1111" in page.text or "444455XXXXXX6666" in page.text
    cards = (await world.customer.get("/api/v1/payments/cards")).json()
    assert len(cards) == 1 and "token" not in cards[0]
    assert (await world.customer.delete(f"/api/v1/payments/cards/{cards[0]['id']}")).status_code == 204
    assert (await world.customer.get("/api/v1/payments/cards")).json() == []


async def test_nul_characters_and_unknown_filters_are_refused_not_crashed_on(world):
    async with app_client(world.platform, identity=make_identity("payments.view", "payments.approve_payout"),
                          app=world.app) as staff:
        for query in ("status=%00", "kind=x", "gateway=%00", "gateway=paypal"):
            assert (await staff.get(f"/api/v1/admin/payments?{query}")).status_code == 400, query
        assert (await staff.get("/admin/payments?status=%00&gateway=fondy")).status_code == 200
        missing = await staff.post(f"/api/v1/admin/payments/{uuid.uuid4()}/reject", json={"reason": "a\x00b"})
        assert missing.status_code == 404
    created = await world.customer.post("/api/v1/payments/topups",
                                        json={"amount": "100", "gateway": "fondy", "idempotency_key": "k\x00ey"})
    assert created.status_code == 201
    page = await world.customer.post("/payments/topup", data={"amount": "100\x00", "gateway": "fondy"})
    assert page.status_code == 303
