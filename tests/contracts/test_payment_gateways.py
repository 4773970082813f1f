"""The payment-gateway contract, run against every gateway through its provider's emulator.

What any ``core.contracts.payments.PaymentGateway`` must do:

* answer every operation with a result in Kill Bill's five statuses, and never raise for
  a business outcome (a decline, an unknown order, a timeout, an unsupported operation);
* take money through its page and report it PROCESSED, with the right amount, in the
  status query and (when the provider sends them) in a verified callback;
* refuse to verify a callback that is forged, tampered with or not even readable;
* refund, charge saved cards and pay out where it says it can.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable

import pytest

from core.contracts.payments import (
    NOT_SUPPORTED,
    CallbackRequest,
    GatewayStatus,
    Operation,
    PaymentGateway,
    PaymentRef,
    PayoutDestination,
    PayoutRequest,
)
from core.money import Money
from plugins.payments.bank_transfer.gateway import BankTransferGateway
from plugins.payments.emulation import DECLINED_CARD, Mode
from plugins.payments.fondy.gateway import FondyGateway
from plugins.payments.testing import CallbackCollector, GatewayHarness, Sandbox, default_settings
from plugins.payments.uniteller.gateway import UnitellerGateway
from plugins.payments.wayforpay.gateway import WayForPayGateway

TIMEOUT_S = 0.5


def fondy(url: str) -> PaymentGateway:
    s = default_settings("fondy")
    return FondyGateway(merchant_id=s.merchant_id, secret_key=s.secret_key.get_secret_value(),
                        credit_key=s.credit_key.get_secret_value(), api_url=f"{url}/api",
                        currencies=frozenset({"UAH", "RUB"}), timeout_s=TIMEOUT_S)


def wayforpay(url: str) -> PaymentGateway:
    s = default_settings("wayforpay")
    return WayForPayGateway(merchant_account=s.merchant_account, secret_key=s.secret_key.get_secret_value(),
                            merchant_domain=s.merchant_domain, pay_url=f"{url}/pay", api_url=f"{url}/api",
                            currencies=frozenset({"UAH", "RUB"}), timeout_s=TIMEOUT_S)


def uniteller(url: str) -> PaymentGateway:
    s = default_settings("uniteller")
    return UnitellerGateway(shop_id=s.shop_id, login=s.login, password=s.password.get_secret_value(), api_url=url,
                            timeout_s=TIMEOUT_S)


def bank_transfer(url: str) -> PaymentGateway:
    return BankTransferGateway(statement_url=f"{url}/statement", timeout_s=TIMEOUT_S)


GATEWAYS: dict[str, Callable[[str], PaymentGateway]] = {
    "fondy": fondy, "wayforpay": wayforpay, "uniteller": uniteller, "bank_transfer": bank_transfer,
}


@pytest.fixture(scope="module")
async def contract_sandbox():
    box = await Sandbox.start(tuple(GATEWAYS))
    yield box
    await box.stop()


@pytest.fixture(params=list(GATEWAYS))
def harness(request, contract_sandbox) -> GatewayHarness:
    contract_sandbox.reset()
    name = request.param
    gateway = GATEWAYS[name](contract_sandbox.urls[name])
    emulator = contract_sandbox.emulators[name]
    collector = CallbackCollector(gateway)
    emulator.callback_transport = collector.transport
    emulator.default_callback_url = CallbackCollector.URL
    return GatewayHarness(gateway, emulator, collector)


async def paid(h: GatewayHarness, amount: str = "150.00", *, save_card: bool = False):
    request = h.request(amount, save_card=save_card)
    result = await h.gateway.purchase(request)
    await h.customer_pays(request, result.redirect)
    return request, result


def ref(request, reference: str = "") -> PaymentRef:
    return PaymentRef(request.payment_id, request.amount, reference, dt.datetime.now(dt.UTC))


async def test_the_gateway_declares_what_it_is_and_can(harness):
    gateway = harness.gateway
    assert isinstance(gateway, PaymentGateway)
    assert gateway.name and gateway.title and gateway.currencies
    for flag in ("supports_redirect", "supports_authorize", "supports_refund", "supports_partial_refund",
                 "supports_recurring", "supports_payout", "supports_callbacks", "supports_listing"):
        assert isinstance(getattr(gateway, flag), bool), flag
    assert gateway.supports_payout == bool(gateway.payout_destinations)


async def test_a_purchase_sends_the_customer_to_pay_and_then_reports_processed(harness):
    gateway = harness.gateway
    request = harness.request("150.00")
    result = await gateway.purchase(request)
    assert result.status is GatewayStatus.PENDING and result.operation is Operation.PURCHASE
    assert result.payment_id == request.payment_id and result.redirect is not None
    await harness.customer_pays(request, result.redirect)

    status = await gateway.status(ref(request, result.reference))
    assert status.status is GatewayStatus.PROCESSED, status
    assert status.amount == request.amount and status.payment_id == request.payment_id
    if gateway.supports_callbacks:
        notes = [gateway.parse_callback(c) for c in harness.collector.received]
        assert notes and all(n.verified for n in notes)
        last = notes[-1].result
        assert last.status is GatewayStatus.PROCESSED and last.payment_id == request.payment_id
        assert last.amount in (request.amount, None)  # None: the amount comes from a status query
        assert gateway.acknowledge(notes[-1], True).status_code == 200


async def test_a_declined_payment_is_not_processed(harness):
    harness.emulator.set_modes([Mode.DECLINED])
    request = harness.request("99.00")
    result = await harness.gateway.purchase(request)
    await harness.customer_pays(request, result.redirect, DECLINED_CARD)
    status = await harness.gateway.status(ref(request, result.reference))
    expected = GatewayStatus.PENDING if not harness.gateway.supports_callbacks else GatewayStatus.ERROR
    assert status.status is expected, status  # a bank that refuses a transfer leaves the invoice open
    for callback in harness.collector.received:
        note = harness.gateway.parse_callback(callback)
        assert note.verified and note.result.status is GatewayStatus.ERROR


async def test_a_payment_nobody_started_is_not_processed(harness):
    request = harness.request("10.00")
    status = await harness.gateway.status(ref(request))
    assert status.status in (GatewayStatus.PENDING, GatewayStatus.CANCELED), status


def sends_no_callbacks(gateway: PaymentGateway) -> bool:
    """True (after checking it verifies nothing) for a gateway whose provider sends no callbacks.

    Skipping would fail in CI, and there is a contract here too: such a gateway verifies nothing.
    """
    if gateway.supports_callbacks:
        return False
    assert not gateway.parse_callback(CallbackRequest(b"Order_ID=1&Status=paid&Signature=x")).verified
    return True


async def test_a_page_left_unpaid_expires_and_the_payment_did_not_happen(harness):
    request = harness.request("33.00")
    result = await harness.gateway.purchase(request)
    if result.redirect is not None and result.redirect.url.startswith("http"):
        await harness.customer_opens(result.redirect)  # the provider now knows the order
    for order in harness.emulator.orders.values():
        order.created_at -= dt.timedelta(days=30)
    overdue = PaymentRef(request.payment_id, request.amount, result.reference,
                         dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    status = await harness.gateway.status(overdue)
    assert status.status is GatewayStatus.CANCELED, status


async def test_callbacks_signed_with_the_wrong_key_are_refused(harness):
    if sends_no_callbacks(harness.gateway):
        return
    harness.emulator.set_modes([Mode.WRONG_SIGNATURE])
    request, _result = await paid(harness, "42.00")
    assert harness.collector.received
    for callback in harness.collector.received:
        note = harness.gateway.parse_callback(callback)
        assert not note.verified and note.result is None and note.problem
        assert note.payment_id == request.payment_id  # kept for the audit trail
        assert harness.gateway.acknowledge(note, False).status_code != 200


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02\xff", b"{", b"[]", b"null", b"a=b&c", b"{\"order_id\": 1}",
                                  b"Order_ID=x&Status=paid", "\u2603=\u2603".encode(),
                                  # An escaped lone surrogate (no text can hold it) and nesting deeper than the parser goes:
                                  b'{"order_id": "\\ud800", "orderReference": "\\ud800", "signature": "x",'
                                  b' "merchantSignature": "x", "merchantAccount": "test_merch_n1"}',
                                  b'{"order_id": "1", "signature": "x", "a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"])
async def test_garbage_is_never_verified_and_never_raises(harness, body):
    for content_type in ("application/json", "application/x-www-form-urlencoded", ""):
        note = harness.gateway.parse_callback(CallbackRequest(body, content_type))
        assert not note.verified and note.result is None


async def test_a_tampered_callback_is_refused(harness):
    if sends_no_callbacks(harness.gateway):
        return
    await paid(harness, "150.00")
    body = harness.collector.received[-1].body
    for before, after in ((b"15000", b"15001"), (b"150", b"950"), (b"approved", b"declined"), (b"paid", b"pa1d")):
        if before in body:
            tampered = CallbackRequest(body.replace(before, after, 1), harness.collector.received[-1].content_type)
            assert not harness.gateway.parse_callback(tampered).verified
            return
    pytest.fail("no field to tamper with found in the callback")


async def test_duplicate_and_delayed_callbacks_carry_the_same_verified_answer(harness):
    if sends_no_callbacks(harness.gateway):
        return
    harness.emulator.set_modes([Mode.DUPLICATE_CALLBACK, Mode.DELAYED_CALLBACK])
    request, _ = await paid(harness, "77.00")
    notes = [harness.gateway.parse_callback(c) for c in harness.collector.received]
    assert len(notes) >= 2 and all(n.verified and n.payment_id == request.payment_id for n in notes)
    assert {n.result.status for n in notes} == {GatewayStatus.PROCESSED}


async def test_a_provider_that_does_not_answer_in_time_gives_undefined(harness):
    request, result = await paid(harness, "55.00")
    harness.emulator.set_modes([Mode.TIMEOUT])
    status = await harness.gateway.status(ref(request, result.reference))
    assert status.status is GatewayStatus.UNDEFINED and status.error_code == "timeout"


async def test_an_unreachable_provider_gives_a_result_not_an_exception(harness):
    from core.testing import free_port

    gateway = GATEWAYS[harness.gateway.name](f"http://127.0.0.1:{free_port()}")
    request = harness.request("12.00")
    purchase = await gateway.purchase(request)
    assert purchase.status in (GatewayStatus.CANCELED, GatewayStatus.PENDING)  # hosted forms need no call
    status = await gateway.status(ref(request))
    assert status.status is GatewayStatus.UNDEFINED  # a failed question says nothing about the payment


async def test_refunds_where_supported(harness):
    gateway = harness.gateway
    request, result = await paid(harness, "150.00")
    status = await gateway.status(ref(request, result.reference))
    refund = await gateway.refund(ref(request, status.reference), Money.of("50.00", request.amount.currency), "r-1")
    if not gateway.supports_refund:
        assert refund.status is GatewayStatus.CANCELED and refund.error_code == NOT_SUPPORTED
        return
    assert refund.status is GatewayStatus.PROCESSED, refund
    too_much = await gateway.refund(ref(request, status.reference), Money.of("150.00", request.amount.currency), "r-2")
    assert too_much.status is GatewayStatus.ERROR, too_much


async def test_a_saved_card_is_charged_again_where_supported(harness):
    gateway = harness.gateway
    await paid(harness, "20.00", save_card=True)
    charge_request = harness.request("35.00")
    if not gateway.supports_recurring:
        charged = await gateway.charge(charge_request)
        assert charged.status is GatewayStatus.CANCELED and charged.error_code == NOT_SUPPORTED
        return
    cards = [gateway.parse_callback(c).result.card for c in harness.collector.received]
    card = next((c for c in cards if c is not None), None)
    assert card is not None and card.token, "a paid purchase with save_card must give a card token"
    charged = await gateway.charge(dataclasses.replace(charge_request, card_token=card.token))
    assert charged.status is GatewayStatus.PROCESSED and charged.amount == charge_request.amount, charged
    bad = await gateway.charge(dataclasses.replace(harness.request("35.00"), card_token="no-such-token"))
    assert bad.status is GatewayStatus.ERROR, bad


async def test_payouts_where_supported(harness):
    gateway = harness.gateway
    amount = Money.of("30.00", "RUB" if "RUB" in gateway.currencies else sorted(gateway.currencies)[0])
    if "card" in gateway.payout_destinations:
        await paid(harness, "20.00", save_card=True)
        token = next(c.token for c in (gateway.parse_callback(x).result.card for x in harness.collector.received) if c)
        destination = PayoutDestination("card", card_token=token)
    else:
        destination = PayoutDestination("bank_account", account_number="40817810000000000001", bank_code="044525225",
                                        holder_name="Ivan Petrov")
    payout = await gateway.payout(PayoutRequest(str(uuid.uuid4()), amount, destination, "contract payout"))
    if not gateway.supports_payout:
        assert payout.status is GatewayStatus.CANCELED and payout.error_code == NOT_SUPPORTED
        return
    assert payout.status in (GatewayStatus.PROCESSED, GatewayStatus.PENDING), payout
    # The janitor asks about a payout whose answer was lost: the provider's view is the payout's.
    asked = await gateway.status(PaymentRef(payout.payment_id, amount, payout.reference, dt.datetime.now(dt.UTC)))
    assert asked.status is payout.status, asked
    wrong = PayoutDestination("bank_account" if "card" in gateway.payout_destinations else "card", card_token="x")
    refused = await gateway.payout(PayoutRequest(str(uuid.uuid4()), amount, wrong, "wrong destination"))
    assert refused.status is GatewayStatus.CANCELED


async def test_authorize_then_capture_or_void_where_supported(harness):
    gateway = harness.gateway
    if not gateway.supports_authorize:
        return  # the next test checks that it says so
    held = harness.request("40.00")
    result = await gateway.authorize(held)
    assert result.status is GatewayStatus.PENDING and result.redirect is not None
    await harness.customer_pays(held, result.redirect)
    assert (await gateway.status(ref(held, result.reference))).status is GatewayStatus.PROCESSED
    captured = await gateway.capture(ref(held, result.reference), held.amount)
    assert captured.status is GatewayStatus.PROCESSED, captured
    released = harness.request("41.00")
    result = await gateway.authorize(released)
    await harness.customer_pays(released, result.redirect)
    voided = await gateway.void(ref(released, result.reference))
    assert voided.status is GatewayStatus.PROCESSED, voided


async def test_operations_it_does_not_offer_are_canceled_results(harness):
    gateway = harness.gateway
    request = harness.request("10.00")
    if not gateway.supports_authorize:
        for result in (await gateway.authorize(request), await gateway.capture(ref(request), request.amount),
                       await gateway.void(ref(request))):
            assert result.status is GatewayStatus.CANCELED and result.error_code == NOT_SUPPORTED
    if not gateway.supports_callbacks:
        note = gateway.parse_callback(CallbackRequest(b"anything"))
        assert not note.verified
    if not gateway.supports_listing:
        assert list(await gateway.transactions(dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))) == []


async def test_the_provider_lists_the_payment_where_it_can(harness):
    request, _ = await paid(harness, "61.00")
    if not harness.gateway.supports_listing:
        assert list(await harness.gateway.transactions(dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))) == []
        return
    now = dt.datetime.now(dt.UTC)
    listed = await harness.gateway.transactions(now - dt.timedelta(days=1), now + dt.timedelta(days=1))
    found = [r for r in listed if r.payment_id == request.payment_id]
    assert found and found[0].status is GatewayStatus.PROCESSED and found[0].amount == request.amount

