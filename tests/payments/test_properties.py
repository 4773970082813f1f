"""Property tests: amounts survive every provider's formatting exactly; no input makes a parser raise."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.contracts.payments import CallbackRequest
from core.money import Money
from plugins.payments.bank_transfer.statement import parse_statement
from plugins.payments.fondy.gateway import FondyGateway
from plugins.payments.uniteller.gateway import UnitellerGateway, subtotal_text
from plugins.payments.wayforpay.gateway import WayForPayGateway
from plugins.payments.wayforpay.signature import amount_text
from plugins.payments.wire import dumps_exact

minor_units = st.integers(min_value=1, max_value=10**13)


@given(minor_units)
def test_wayforpay_amounts_are_exact_both_ways(minor):
    money = Money(minor, "UAH")
    text = amount_text(money.amount)
    assert Money.of(Decimal(text), "UAH") == money
    assert "e" not in text.lower() and not text.endswith(".") and (("." not in text) or not text.endswith("0"))
    assert dumps_exact({"amount": money.amount}) == '{"amount": ' + text + "}"


@given(minor_units)
def test_uniteller_subtotals_are_exact_both_ways(minor):
    money = Money(minor, "RUB")
    text = subtotal_text(money)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
    assert Money.of(text, "RUB") == money


@given(minor_units, st.sampled_from(["1 234,56", "{:,}", "{}"]))
def test_statement_amounts_are_read_exactly_however_they_are_written(minor, style):
    money = Money(minor, "RUB")
    plain = f"{money.amount:.2f}"
    if style == "1 234,56":
        whole, cents = plain.split(".")
        written = f"{int(whole):,}".replace(",", " ") + "," + cents
    else:
        written = plain
    text = f"date;amount;purpose\n2026-11-22;{written};x\n"
    parsed = parse_statement(text, "RUB")
    assert not parsed.errors and parsed.lines[0].amount == money


GATEWAYS = [
    FondyGateway(merchant_id=1396424, secret_key="test", credit_key="testcredit"),
    WayForPayGateway(merchant_account="test_merch_n1", secret_key="flk3409refn54t54t*FNJRET",
                     merchant_domain="www.market.ua"),
    UnitellerGateway(shop_id="ACME", login="x", password="LONG-PWD"),
]


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=200).map(str.encode),
       st.sampled_from(["application/json", "application/x-www-form-urlencoded", "", "text/plain"]))
def test_no_callback_body_makes_a_gateway_raise_or_believe_it(body, content_type):
    for gateway in GATEWAYS:
        note = gateway.parse_callback(CallbackRequest(body, content_type))
        assert not note.verified and note.result is None
        assert gateway.acknowledge(note, False).status_code != 200


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["order_id", "orderReference", "Order_ID", "Status", "amount", "currency",
                                        "order_status", "signature", "merchantSignature", "Signature", "merchantAccount",
                                        "transactionStatus", "reasonCode", "Total"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
                       max_size=10))
def test_structured_garbage_is_refused_too(fields):
    import json
    from urllib.parse import urlencode

    bodies = [json.dumps(fields).encode(), urlencode({k: str(v) for k, v in fields.items()}).encode()]
    for gateway in GATEWAYS:
        for body in bodies:
            assert not gateway.parse_callback(CallbackRequest(body)).verified
