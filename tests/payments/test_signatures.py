"""The providers' published (and cross-checked) signature vectors, reproduced."""

from decimal import Decimal

from plugins.payments.fondy import signature as fondy
from plugins.payments.uniteller import signature as uniteller
from plugins.payments.wayforpay import signature as wayforpay


def test_fondy_published_vector():
    # docs.fondy.io/reference/authentication: merchant 1396424, payment key "test".
    request = {"server_callback_url": "http://myshop/callback/", "order_id": "TestOrder2", "currency": "USD",
               "merchant_id": 1396424, "order_desc": "Test payment", "amount": 1000}
    assert fondy.signature("test", request) == "91ea7da493a8367410fe3d7f877fb5e0ed666490"
    signed = fondy.sign("test", request)
    assert fondy.is_valid("test", signed)
    assert fondy.is_valid("test", {**signed, "response_signature_string": "ignored", "empty": ""})
    assert not fondy.is_valid("test", {**signed, "amount": 1001})
    assert not fondy.is_valid("other", signed)
    assert not fondy.is_valid("test", {**request, "signature": None})


PURCHASE = {
    "merchantAccount": "test_merch_n1", "merchantDomainName": "www.market.ua", "orderReference": "DH783023",
    "orderDate": 1415379863, "amount": Decimal("1547.36"), "currency": "UAH",
    "productName": ["Процессор Intel Core i5-4670 3.4GHz", "Память Kingston DDR3-1600 4096MB PC3-12800"],
    "productCount": [1, 1], "productPrice": [Decimal("1000"), Decimal("547.36")],
}
TEST_KEY = "flk3409refn54t54t*FNJRET"


def test_wayforpay_vectors():
    assert wayforpay.signature(TEST_KEY, "purchase", PURCHASE) == "c9bc2d1b724bf410e36f6d6adc0d3c45"
    wiki = {**PURCHASE, "merchantAccount": "test_merchant"}
    assert wayforpay.signature("dhkq3vUi94{Z!5frxs(02ML", "purchase", wiki) == "3f787303ac524389b4a76383f9508251"
    answer = {"merchantAccount": "test_merch_n1", "orderReference": "DH783023", "amount": 1547.36, "currency": "UAH",
              "authCode": "541963", "cardPan": "41****8217", "transactionStatus": "Approved", "reasonCode": 1100}
    assert wayforpay.signature(TEST_KEY, "status_answer", answer) == "ee460de4b316672fa974295ed4dba738"
    accept = {"orderReference": "DH783023", "status": "accept", "time": 1415379863}
    assert wayforpay.signature(TEST_KEY, "accept", accept) == "bd8d3443f99fb2c7a8b610ac600c80b0"
    refund = {"merchantAccount": "test_merch_n1", "orderReference": "DH783023", "amount": "1547.36", "currency": "UAH"}
    assert wayforpay.signature(TEST_KEY, "refund", refund) == "aeef7da70d54098937a7930f64193710"
    check = {"merchantAccount": "test_merch_n1", "orderReference": "DH783023"}
    assert wayforpay.signature(TEST_KEY, "check_status", check) == "b1877c0b08a7d49a579f18ed68855ec6"


def test_wayforpay_amounts_render_like_php():
    assert wayforpay.amount_text(Decimal("1000.00")) == "1000"
    assert wayforpay.amount_text(Decimal("547.360")) == "547.36"
    assert wayforpay.amount_text(Decimal("10.50")) == "10.5"
    assert wayforpay.amount_text(Decimal("0.01")) == "0.01"


def test_uniteller_sdk_vectors():
    fields = {"Shop_IDP": "ACME", "Order_IDP": "FOO", "Subtotal_P": "100", "Lifetime": "300",
              "Customer_IDP": "short_shop_string"}
    assert uniteller.payment_signature(fields, "LONG-PWD") == "3D1D6F830384886A81AD672F66392B03"
    assert uniteller.callback_signature("FOO", "paid", [], "LONG-PWD") == "3F728AA479E50F5B10EE6C20258BFF88"
    assert uniteller.is_valid_callback("FOO", "paid", [], "LONG-PWD", "3f728aa479e50f5b10ee6c20258bff88")
    assert not uniteller.is_valid_callback("FOO", "paid", [], "LONG-PWD", "")
