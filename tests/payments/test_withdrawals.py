"""Withdrawals (code, hold, approval, payout, failure), refunds, saved-card charges, reconciliation."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from litestar.exceptions import ClientException

from core.jobs.runtime import Jobs
from core.ledger import Ledger
from core.testing import app_client, make_identity
from plugins.payments.emulation import Mode
from plugins.payments.postings import Postings
from plugins.payments.reconciliation import PROVIDER_PAID_WE_DID_NOT, Reconciler
from plugins.payments.service import BankAccount, PaymentConflict, PaymentRefused
from plugins.payments.states import Status


class Codes:
    """Stands in for the platform's confirmation service: one code per withdrawal."""

    def __init__(self):
        self.sent = {}

    async def issue(self, payment):
        self.sent[payment.id] = "123456"
        return str(uuid.uuid4())

    async def verify(self, payment, code):
        from litestar.exceptions import ClientException

        if self.sent.get(payment.id) != code:
            raise ClientException("code: wrong or expired", status_code=422)


@pytest.fixture
async def funded_world(world):
    world.payments.codes = Codes()
    await world.funded("5000", gateway="fondy", save_card=True)
    return world


async def card_id(world):
    return (await world.payments.cards(world.user_id))[0].id


async def run_queued_payouts(world):
    """Run what the broker holds; return how many payouts were among it."""
    broker = world.platform.service(Jobs).broker
    payouts = len(broker.kicked("payments.execute_payout"))
    await broker.drain()
    return payouts


async def test_a_withdrawal_is_confirmed_held_paid_out_and_debited(funded_world):
    world, payments = funded_world, funded_world.payments
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("1200"), gateway="fondy",
                                                card_id=await card_id(world))
    assert payment.status is Status.AWAITING_CONFIRMATION and payment.destination["masked"].endswith("6666")
    with pytest.raises(Exception, match="wrong"):
        await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="000000")
    confirmed = await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    assert confirmed.status is Status.APPROVED
    assert (await world.balance()).minor == 380000  # held: no longer available
    assert await run_queued_payouts(world) == 1
    paid = await payments.get(payment.id)
    assert paid.status is Status.SUCCEEDED
    assert (await world.balance()).minor == 380000
    wallet = await payments.postings.find_wallet(world.user_id, "RUB")
    assert wallet.balance.posted == 380000 and wallet.balance.pending == 0
    assert await payments.execute_payout(payment.id) == paid  # a re-run task sends nothing


async def test_a_payout_whose_answer_was_lost_is_never_sent_twice(funded_world, monkeypatch):
    world, payments = funded_world, funded_world.payments
    world.sandbox.emulators["fondy"].set_modes([Mode.NO_CALLBACK])
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("1200"), gateway="fondy",
                                                card_id=await card_id(world))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    apply_result = payments.apply_result

    async def worker_dies(payment_id, result, **kwargs):
        raise RuntimeError("the worker died after the provider paid out")

    monkeypatch.setattr(payments, "apply_result", worker_dies)
    with pytest.raises(RuntimeError):
        await payments.execute_payout(payment.id)
    monkeypatch.setattr(payments, "apply_result", apply_result)
    # The task is delivered again, and the janitor comes by: neither sends it a second time.
    assert (await payments.execute_payout(payment.id)).status is Status.UNKNOWN
    await payments.run_janitor(at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert (await payments.get(payment.id)).status is Status.SUCCEEDED
    payouts = [o for o in world.sandbox.emulators["fondy"].orders.values() if o.kind == "payout"]
    assert len(payouts) == 1
    assert (await world.balance()).minor == 380000  # paid out once, debited once


async def test_nobody_asks_about_a_payout_while_it_is_being_sent(funded_world):
    world, payments = funded_world, funded_world.payments
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("1200"), gateway="fondy",
                                                card_id=await card_id(world))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    # The task has claimed it and its call to Fondy is on its way; the customer opens the return address.
    await payments._claim_for_sending(payment.id, Status.APPROVED, "payout_sending")
    async with app_client(world.platform, app=world.app) as anonymous:
        assert (await anonymous.get(f"/payments/return/{payment.id}")).status_code == 303
    assert (await payments.get(payment.id)).status is Status.UNKNOWN  # not "canceled" by Fondy's "no such order"
    assert await payments.run_janitor(at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)) == {}  # nor by the janitor
    assert (await world.balance()).minor == 380000


async def test_a_failed_payout_releases_the_hold(funded_world):
    world, payments = funded_world, funded_world.payments
    world.sandbox.emulators["fondy"].set_modes([Mode.DECLINED])
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("700"), gateway="fondy",
                                                card_id=await card_id(world))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    await run_queued_payouts(world)
    assert (await payments.get(payment.id)).status is Status.FAILED
    assert (await world.balance()).minor == 500000


async def test_a_large_withdrawal_waits_for_finance(funded_world):
    world, payments = funded_world, funded_world.payments
    payments.settings = payments.settings.model_copy(update={"approval_threshold": 1000})
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("3000"), gateway="fondy",
                                                card_id=await card_id(world))
    waiting = await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    assert waiting.status is Status.AWAITING_APPROVAL
    assert await run_queued_payouts(world) == 0
    with pytest.raises(PaymentConflict, match="own"):
        await payments.approve_withdrawal(payment.id, world.user_id)
    async with app_client(world.platform, identity=make_identity("payments.approve_payout", user_id=world.user_id),
                          app=world.app) as herself:
        assert (await herself.post(f"/api/v1/admin/payments/{payment.id}/approve")).status_code == 403
    async with app_client(world.platform, identity=make_identity("payments.approve_payout"), app=world.app) as finance:
        asked = await finance.post(f"/api/v1/admin/payments/{payment.id}/approve")
        assert asked.status_code == 200 and asked.json()["outcome"] == "pending"
    assert (await payments.get(payment.id)).status is Status.AWAITING_APPROVAL
    assert (await world.second_person_approves("payments.approve_payout")).status == "executed"
    assert (await payments.get(payment.id)).status is Status.APPROVED
    await run_queued_payouts(world)
    assert (await payments.get(payment.id)).status is Status.SUCCEEDED
    assert (await world.balance()).minor == 200000


async def test_finance_rejects_and_the_customer_cancels(funded_world):
    world, payments = funded_world, funded_world.payments
    payments.settings = payments.settings.model_copy(update={"approval_threshold": 100})
    first = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("1000"), gateway="fondy",
                                              card_id=await card_id(world))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=first.id, code="123456")
    with pytest.raises(PaymentRefused, match="reason"):
        await payments.reject_withdrawal(first.id, uuid.uuid4(), " ")
    rejected = await payments.reject_withdrawal(first.id, uuid.uuid4(), "the card does not belong to the customer")
    assert rejected.status is Status.REJECTED
    second = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("1000"), gateway="fondy",
                                               card_id=await card_id(world))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=second.id, code="123456")
    canceled = await payments.cancel_withdrawal(user_id=world.user_id, payment_id=second.id)
    assert canceled.status is Status.CANCELED
    assert (await world.balance()).minor == 500000


async def test_withdrawals_are_refused_with_reasons(funded_world):
    world, payments = funded_world, funded_world.payments
    request = payments.request_withdrawal
    with pytest.raises(PaymentRefused, match="available balance"):
        await request(user_id=world.user_id, amount=payments.money("6000"), gateway="fondy", card_id=await card_id(world))
    with pytest.raises(PaymentRefused, match="card_id"):
        await request(user_id=world.user_id, amount=payments.money("500"), gateway="fondy", card_id=uuid.uuid4())
    with pytest.raises(PaymentRefused, match="cannot pay out"):
        await request(user_id=world.user_id, amount=payments.money("500"), gateway="wayforpay",
                      card_id=await card_id(world))
    with pytest.raises(PaymentRefused, match="bank_code"):
        await request(user_id=world.user_id, amount=payments.money("500"), gateway="bank_transfer",
                      bank_account=BankAccount("40817810000000000001", "12", "Ivan Petrov"))


async def test_a_withdrawal_whose_code_cannot_be_sent_is_not_recorded(funded_world, monkeypatch):
    world, payments = funded_world, funded_world.payments

    async def refused(payment):
        raise ClientException("too many codes were sent", status_code=429)

    monkeypatch.setattr(payments.codes, "issue", refused)
    with pytest.raises(ClientException, match="too many codes"):
        await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("500"), gateway="fondy",
                                          card_id=await card_id(world))
    assert [p.kind.value for p in await payments.history(world.user_id)] == ["topup"]


async def test_a_bank_payout_stays_pending_until_finance_sends_it(funded_world):
    world, payments = funded_world, funded_world.payments
    payment = await payments.request_withdrawal(
        user_id=world.user_id, amount=payments.money("800"), gateway="bank_transfer",
        bank_account=BankAccount("40817810000000000001", "044525225", "Ivan Petrov", "Sandbox Bank"))
    await payments.confirm_withdrawal(user_id=world.user_id, payment_id=payment.id, code="123456")
    await run_queued_payouts(world)
    pending = await payments.get(payment.id)
    assert pending.status is Status.PENDING and pending.reference.startswith("RF")
    stored = await world.platform.db.fetchrow(
        "SELECT destination::text AS plain, destination_enc FROM payments_payments WHERE id = $1", payment.id)
    assert "40817810000000000001" not in stored["plain"] and b"40817810000000000001" not in stored["destination_enc"]
    assert payments.payout_details(pending)["account_number"] == "40817810000000000001"
    # Days go by (longer than an invoice lives): the janitor never cancels a payout order, a person looks.
    await world.platform.db.execute(
        "UPDATE payments_payments SET created_at = created_at - interval '10 days' WHERE id = $1", payment.id)
    await payments.run_janitor(at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    waiting = await payments.get(payment.id)
    assert waiting.status is Status.PENDING and waiting.needs_review
    assert (await world.balance()).minor == 420000
    cards = await world.platform.db.fetch("SELECT token_enc FROM payments_cards")
    fondy = world.sandbox.emulators["fondy"]
    tokens = [o.token.encode() for o in fondy.orders.values() if o.token]
    assert cards and tokens and not any(t in row["token_enc"] for t in tokens for row in cards)
    await payments.mark_paid(payment.id, "admin:test", "sent from the bank client")
    assert (await payments.get(payment.id)).status is Status.SUCCEEDED
    assert (await world.balance()).minor == 420000


async def test_a_withdrawal_is_confirmed_with_the_code_sent_to_the_customer(world):
    from core.users.testing import latest_code

    payments = world.payments
    await world.funded("2000", gateway="fondy", save_card=True)
    payment = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("500"), gateway="fondy",
                                                card_id=await card_id(world))
    code = await latest_code(world.platform, world.login)
    wrong = await world.customer.post(f"/payments/{payment.id}/confirm", data={"code": "999999"})
    assert wrong.status_code == 422
    other = await payments.request_withdrawal(user_id=world.user_id, amount=payments.money("600"), gateway="fondy",
                                              card_id=await card_id(world))
    with pytest.raises(ClientException) as refused:  # a code confirms its own withdrawal and no other
        await payments.confirm_withdrawal(user_id=world.user_id, payment_id=other.id, code=code)
    assert refused.value.status_code == 422
    done = await world.customer.post(f"/payments/{payment.id}/confirm", data={"code": code})
    assert done.status_code == 303
    assert (await payments.get(payment.id)).status is Status.APPROVED


async def test_a_refund_with_a_second_pair_of_eyes(funded_world):
    world, payments = funded_world, funded_world.payments
    topup = (await payments.history(world.user_id))[0]
    async with app_client(world.platform, identity=make_identity("payments.refund"), app=world.app) as finance:
        asked = await finance.post(f"/api/v1/admin/payments/{topup.id}/refund", json={"amount": "9999"})
        assert asked.status_code == 422 and "at most" in asked.json()["detail"]
        asked = await finance.post(f"/api/v1/admin/payments/{topup.id}/refund", json={"amount": "1000"})
        assert asked.json()["outcome"] == "pending"
    assert (await world.second_person_approves("payments.refund")).status == "executed"
    broker = world.platform.service(Jobs).broker
    assert len(broker.kicked("payments.execute_refund")) == 1  # the provider is called by a task
    await broker.drain()
    refunded = await payments.get(topup.id)
    assert refunded.refunded.minor == 100000 and (await world.balance()).minor == 400000


async def test_a_refund_goes_back_to_the_card_and_off_the_balance(funded_world):
    world, payments = funded_world, funded_world.payments
    topup = (await payments.history(world.user_id))[0]
    part = await payments.refund(topup.id, payments.money("1500"), "admin:test")
    assert part.status is Status.SUCCEEDED and part.refunded.minor == 150000
    assert (await world.balance()).minor == 350000
    with pytest.raises(PaymentRefused, match="at most"):
        await payments.refund(topup.id, payments.money("4000"), "admin:test")
    full = await payments.refund(topup.id, payments.money("3500"), "admin:test")
    assert full.status is Status.REFUNDED and (await world.balance()).minor == 0


async def test_a_saved_card_is_charged_once_per_key(funded_world):
    world, payments = funded_world, funded_world.payments
    card = await card_id(world)
    first = await payments.charge_saved_card(user_id=world.user_id, card_id=card, amount=payments.money("250"),
                                             purpose="loan:42", idempotency_key="loan:42:2026-11-22")
    again = await payments.charge_saved_card(user_id=world.user_id, card_id=card, amount=payments.money("250"),
                                             purpose="loan:42", idempotency_key="loan:42:2026-11-22")
    assert first.status is Status.SUCCEEDED and again.id == first.id
    assert (await world.balance()).minor == 525000
    credit = await world.platform.service(Ledger).get_transfer(Postings.credit_id(first))
    assert credit.code == "payments.charge"


async def test_a_charge_retried_after_a_crash_charges_the_card_once(funded_world, monkeypatch):
    world, payments = funded_world, funded_world.payments
    world.sandbox.emulators["fondy"].set_modes([Mode.NO_CALLBACK])
    card = await card_id(world)
    apply_result = payments.apply_result

    async def worker_dies(payment_id, result, **kwargs):
        raise RuntimeError("the caller died after the provider charged the card")

    monkeypatch.setattr(payments, "apply_result", worker_dies)
    with pytest.raises(RuntimeError):
        await payments.charge_saved_card(user_id=world.user_id, card_id=card, amount=payments.money("250"),
                                         purpose="loan:7", idempotency_key="loan:7:2026-11-22")
    monkeypatch.setattr(payments, "apply_result", apply_result)
    again = await payments.charge_saved_card(user_id=world.user_id, card_id=card, amount=payments.money("250"),
                                             purpose="loan:7", idempotency_key="loan:7:2026-11-22")
    assert again.status is Status.UNKNOWN  # not sent again, not reported failed: the janitor asks
    await payments.run_janitor(at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert (await payments.get(again.id)).status is Status.SUCCEEDED
    charges = [o for o in world.sandbox.emulators["fondy"].orders.values() if o.kind == "recurring"]
    assert len(charges) == 1 and (await world.balance()).minor == 525000


async def test_reconciliation_reports_what_the_provider_knows_and_we_do_not(world):
    payments = world.payments
    await world.funded("100", gateway="wayforpay")
    world.sandbox.emulators["wayforpay"].set_modes([Mode.NO_CALLBACK])
    silent = await payments.start_topup(user_id=world.user_id, amount=payments.money("200"), gateway="wayforpay")
    await world.pay(silent)
    today = dt.datetime.now(ZoneInfo(world.platform.core.platform.timezone)).date()
    reconciler = Reconciler(world.platform)
    ids = await reconciler.run(today)
    reports = {r["gateway"]: r for r in await reconciler.reports()}
    assert reports["wayforpay"]["checked"] == 2 and reports["wayforpay"]["differences"] == 1
    report, items = await reconciler.report(reports["wayforpay"]["id"])
    assert [(i["kind"], i["payment_id"]) for i in items] == [(PROVIDER_PAID_WE_DID_NOT, silent.id)]
    assert await reconciler.run(today) == ids  # the day is done: nothing runs twice
    async with app_client(world.platform, identity=make_identity("payments.view"), app=world.app) as staff:
        page = await staff.get(f"/admin/payments/reconciliation/{report['id']}")
        assert page.status_code == 200 and str(silent.id) in page.text


async def test_reconciliation_asks_about_a_payment_the_providers_list_leaves_out(world):
    paid = await world.funded("100", gateway="wayforpay")
    # Created yesterday, paid today: the provider lists it under yesterday.
    world.sandbox.emulators["wayforpay"].find(str(paid.id)).created_at -= dt.timedelta(days=1)
    await world.platform.db.execute(
        "UPDATE payments_payments SET created_at = created_at - interval '1 day' WHERE id = $1", paid.id)
    today = dt.datetime.now(ZoneInfo(world.platform.core.platform.timezone)).date()
    reconciler = Reconciler(world.platform)
    await reconciler.run(today)
    reports = {r["gateway"]: r for r in await reconciler.reports()}
    assert reports["wayforpay"]["checked"] == 1 and reports["wayforpay"]["differences"] == 0


async def test_reconciliation_runs_at_close_of_day(world):
    closed = await world.platform.service(Jobs).close_day()
    reports = [r for r in await Reconciler(world.platform).reports() if r["business_date"] == closed]
    assert sorted(r["gateway"] for r in reports) == ["bank_transfer", "fondy", "uniteller", "wayforpay"]


async def test_fondy_answers_a_repeated_order_id_as_unknown_not_as_a_decline(funded_world):
    from core.contracts.payments import GatewayStatus, PaymentRequest, PayoutDestination, PayoutRequest

    world, payments = funded_world, funded_world.payments
    fondy = world.gateway("fondy")
    token = (await payments.vault.token(world.user_id, await card_id(world)))[1]
    payout = PayoutRequest(str(uuid.uuid4()), payments.money("100"), PayoutDestination("card", card_token=token), "x")
    assert (await fondy.payout(payout)).status is GatewayStatus.PROCESSED
    assert (await fondy.payout(payout)).status is GatewayStatus.UNDEFINED  # the first one went out
    charge = PaymentRequest(str(uuid.uuid4()), payments.money("100"), "x", card_token=token)
    assert (await fondy.charge(charge)).status is GatewayStatus.PROCESSED
    assert (await fondy.charge(charge)).status is GatewayStatus.UNDEFINED


async def test_a_refund_the_provider_refuses_gives_the_held_amount_back(funded_world):
    world, payments = funded_world, funded_world.payments
    topup = (await payments.history(world.user_id))[0]
    order = world.sandbox.emulators["fondy"].find(str(topup.id))
    order.refunded = order.amount  # already refunded from the provider's dashboard: Fondy declines
    with pytest.raises(PaymentRefused, match="refused the refund"):
        await payments.refund(topup.id, payments.money("1000"), "admin:test")
    wallet = await payments.postings.find_wallet(world.user_id, "RUB")
    assert wallet.balance.pending == 0 and wallet.balance.available == 500000
    assert "refund_failed" in [e["event"] for e in await payments.events(topup.id)]


async def test_an_approved_refund_delivered_twice_refunds_once(funded_world):
    world, payments = funded_world, funded_world.payments
    topup = (await payments.history(world.user_id))[0]
    async with app_client(world.platform, identity=make_identity("payments.refund"), app=world.app) as finance:
        await finance.post(f"/api/v1/admin/payments/{topup.id}/refund", json={"amount": "1000"})
    await world.second_person_approves("payments.refund")
    broker = world.platform.service(Jobs).broker
    [queued] = broker.kicked("payments.execute_refund")
    await broker.drain()
    # The broker delivers at least once: the same task runs again.
    await broker.receiver.callback(message=queued.message)
    assert (await payments.get(topup.id)).refunded.minor == 100000
    assert world.sandbox.emulators["fondy"].find(str(topup.id)).refunded == 100000
    assert (await world.balance()).minor == 400000


async def test_a_refund_cut_short_after_it_was_sent_is_left_to_a_person(funded_world, monkeypatch):
    world, payments = funded_world, funded_world.payments
    topup = (await payments.history(world.user_id))[0]
    call = payments._call

    async def worker_dies(awaitable, *args):
        await call(awaitable, *args)  # the provider refunds
        raise RuntimeError("the worker died before recording it")

    monkeypatch.setattr(payments, "_call", worker_dies)
    with pytest.raises(RuntimeError):
        await payments.refund(topup.id, payments.money("1000"), "admin:test", "r-42")
    monkeypatch.setattr(payments, "_call", call)
    again = await payments.refund(topup.id, payments.money("1000"), "admin:test", "r-42")
    assert again.needs_review and "r-42" in again.review_reason
    assert world.sandbox.emulators["fondy"].find(str(topup.id)).refunded == 100000  # sent once


@pytest.mark.parametrize(("answer", "expected"), [
    ("<html>502 Bad Gateway</html>", "undefined"),  # the refund may have been made: a person finds out
    ('<?xml version="1.0"?><unitellerresult firstcode="4" secondcode="Cancellation is not possible"/>', "error"),
])
async def test_uniteller_tells_a_refused_refund_from_an_answer_it_cannot_read(answer, expected):
    import httpx

    from core.contracts.payments import PaymentRef
    from core.money import Money
    from plugins.payments.uniteller.gateway import UnitellerGateway

    transport = httpx.MockTransport(lambda request: httpx.Response(200, text=answer))
    gateway = UnitellerGateway(shop_id="ACME", login="l", password="p", api_url="http://uniteller.test",
                               transport=transport)
    refund = await gateway.refund(PaymentRef("p-1", Money.of("10", "RUB"), "bill-1"), Money.of("10", "RUB"), "r-1")
    assert refund.status.value == expected
