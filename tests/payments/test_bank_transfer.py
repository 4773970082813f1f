"""Bank transfer: the invoice and its PDF, the statement import, payouts to bank accounts."""

import re

from core.testing import app_client, make_identity
from plugins.payments.bank_transfer.reference import find_references, grouped, is_valid, reference_for
from plugins.payments.bank_transfer.statement import parse_statement
from plugins.payments.states import Status


def test_references_carry_a_check_number_and_are_found_in_free_text():
    import uuid

    reference = reference_for(uuid.UUID("6f1c2a9e-0000-4000-8000-000000000000"))
    assert reference.startswith("RF") and is_valid(reference)
    assert not is_valid(reference[:-1] + ("0" if reference[-1] != "0" else "1"))
    assert is_valid("RF18539007547034")  # the ISO 11649 example
    text = f"Оплата по счёту {grouped(reference)}, без НДС; см. также RF00BAD"
    assert find_references(text) == [reference]


def test_statements_are_read_whatever_the_columns_are_called():
    text = ("Дата;Сумма;Валюта;Плательщик;Назначение платежа;Номер документа\n"
            "22.11.2026;1 500,00;RUB;Иванов И.И.;Оплата RF18539007547034;77\n"
            "22.11.2026;abc;RUB;x;y;78\n"
            "2026-11-22;-300.50;RUB;ООО Ромашка;Выплата;79\n")
    parsed = parse_statement(text, "RUB")
    assert [line.line_id for line in parsed.lines] == ["77", "79"]
    assert parsed.lines[0].amount.minor == 150000 and parsed.lines[0].references == ("RF18539007547034",)
    assert not parsed.lines[1].incoming
    assert parsed.errors == ["line 3, column 'Сумма': 'abc' is not a number"]
    assert parse_statement("a;b\n1;2\n", "RUB").errors[0].startswith("line 1: no column for date, amount, purpose")
    broken = ("date;amount;currency;purpose\n2026-11-22;1;rub1;x\n2026-11-31;1;RUB;x\n2026-11-22;1;RUB;a\x00b\n"
              f"2026-11-22;1;RUB;{'x' * 200_000}\n")
    assert parse_statement(broken, "RUB").errors == [
        "line 2, column 'currency': 'rub1' is not a currency code (RUB, USD...)",
        "line 3, column 'date': date '2026-11-31' is not YYYY-MM-DD or DD.MM.YYYY",
        "line 4, column 'purpose': a NUL character (this is not a text file)",
        "line 5: field larger than field limit (131072)"]


async def test_the_invoice_page_and_its_pdf(world):
    payments = world.payments
    payment = await payments.start_topup(user_id=world.user_id, amount=payments.money("3000"), gateway="bank_transfer")
    assert payment.status is Status.PENDING and payment.redirect.url == f"/payments/invoices/{payment.id}"
    page = await world.customer.get(f"/payments/invoices/{payment.id}")
    assert page.status_code == 200 and grouped(payment.reference) in page.text and "40702810900000000001" in page.text
    pdf = await world.customer.get(f"/payments/invoices/{payment.id}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 5000
    async with app_client(world.platform, identity=make_identity(), app=world.app) as stranger:
        assert (await stranger.get(f"/payments/invoices/{payment.id}")).status_code == 404


async def test_a_statement_import_pays_invoices_once_and_flags_wrong_amounts(world):
    payments = world.payments
    exact = await payments.start_topup(user_id=world.user_id, amount=payments.money("1000"), gateway="bank_transfer")
    short = await payments.start_topup(user_id=world.user_id, amount=payments.money("2000"), gateway="bank_transfer")
    statement = ("id;date;amount;currency;counterparty;purpose\n"
                 f"L1;2026-11-22;1000.00;RUB;Ivanov;Payment under invoice {grouped(exact.reference)}\n"
                 f"L2;2026-11-22;1999.00;RUB;Ivanov;invoice {short.reference}\n"
                 "L3;2026-11-22;50.00;RUB;Somebody;no reference at all\n"
                 "L4;2026-11-22;bad;RUB;x;y\n")
    async with app_client(world.platform, identity=make_identity("payments.manage"), app=world.app) as finance:
        refused = await finance.post("/api/v1/admin/payments/bank/statements", content=statement.encode())
        assert refused.status_code == 400 and "nothing was imported" in refused.json()["detail"]
        assert refused.json()["errors"] == ["line 5, column 'amount': 'bad' is not a number"]
        assert await world.platform.db.fetchval("SELECT count(*) FROM payments_bank_statement_lines") == 0
        assert (await payments.get(exact.id)).status is Status.PENDING
        statement = statement.replace("L4;2026-11-22;bad;", "L4;2026-11-22;-15.00;")
        first = await finance.post("/api/v1/admin/payments/bank/statements", content=statement.encode())
        again = await finance.post("/api/v1/admin/payments/bank/statements", content=statement.encode())
    assert first.status_code == 200, first.text
    assert first.json()["outcomes"] == {"credited": 1, "mismatch": 1, "unmatched": 2}
    assert again.json()["outcomes"] == {"duplicate": 4}
    assert (await payments.get(exact.id)).status is Status.SUCCEEDED
    flagged = await payments.get(short.id)
    assert flagged.status is Status.PENDING and flagged.needs_review
    assert (await world.balance()).minor == 100000


async def test_the_sandbox_bank_statement_settles_the_invoice_through_the_janitor(world):
    import datetime as dt

    payments = world.payments
    payment = await payments.start_topup(user_id=world.user_id, amount=payments.money("750"), gateway="bank_transfer")
    await world.pay(payment)
    await payments.run_janitor(at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    assert (await payments.get(payment.id)).status is Status.SUCCEEDED
    assert (await world.balance()).minor == 75000


async def test_finance_marks_an_invoice_paid_by_hand(world):
    payments = world.payments
    payment = await payments.start_topup(user_id=world.user_id, amount=payments.money("500"), gateway="bank_transfer")
    async with app_client(world.platform, identity=make_identity("payments.view", "payments.mark_paid"),
                          app=world.app) as finance:
        desk = await finance.get("/admin/payments/bank")
        assert desk.status_code == 200 and payment.reference in desk.text
        done = await finance.post(f"/admin/payments/{payment.id}/mark-paid", data={"note": "line 42"})
        assert done.status_code == 303 and done.headers["location"].endswith("done=pending")
    assert (await payments.get(payment.id)).status is Status.PENDING  # one person's word is not enough
    outcome = await world.second_person_approves("payments.mark_paid")
    assert outcome.status == "executed", outcome
    marked = await payments.get(payment.id)
    assert marked.status is Status.SUCCEEDED and "line 42" in marked.provider_status
    assert (await world.balance()).minor == 50000
    assert re.search(r"admin:[0-9a-f-]+", str([e["actor"] for e in await payments.events(payment.id)]))
