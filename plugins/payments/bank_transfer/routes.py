"""The invoice page and PDF for customers; the bank-transfer desk for finance.

``/payments/invoices/{id}`` and ``/payments/invoices/{id}/pdf``; ``/admin/payments/bank``
(open invoices and payouts to send, statement import); ``POST
/api/v1/admin/payments/bank/statements`` (a CSV statement as the request body).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath
from litestar.response import Template

from core.access import identity_of, requires, requires_login
from core.web.templating import render
from plugins.payments import sandbox
from plugins.payments.bank_transfer.imports import import_statement
from plugins.payments.bank_transfer.invoice import invoice_context, invoice_pdf
from plugins.payments.bank_transfer.reference import grouped
from plugins.payments.routes import payment_uuid, service
from plugins.payments.states import Kind, Status

PLUGIN = "payments.bank_transfer"
MAX_STATEMENT_BYTES = 5 * 1024 * 1024


def settings_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.platform.settings(PLUGIN)


def gateway_of(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.platform.registry("payment_gateways").get("bank_transfer")


async def _invoice(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Any:
    identity = identity_of(request)
    payments = service(request)
    payment = await payments.get(payment_uuid(payment_id))
    if payment.gateway != "bank_transfer" or payment.kind is not Kind.TOPUP or (
            payment.user_id != identity.user_id and not identity.can("payments.view")):
        raise NotFoundException(f"no invoice {payment_id} of yours")
    return payment


@get("/payments/invoices/{payment_id:str}", guards=[requires_login], include_in_schema=False)
async def invoice_page(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Template:
    payment = await _invoice(request, payment_id)
    platform = request.app.state.platform
    reference = payment.reference or gateway_of(request).reference(str(payment.id))
    sandbox_link = ""
    if sandbox.sandbox_on(platform):
        query = urlencode({"reference": reference, "amount": str(payment.amount.amount),
                           "currency": payment.amount.currency,
                           "return_url": service(request).return_url(payment.id)})
        sandbox_link = f"{sandbox.sandbox_url(platform, 'bank_transfer')}/pay?{query}"
    return render(request, "bank_transfer/invoice.html", payment=payment, bank=settings_of(request),
                  reference=reference, reference_grouped=grouped(reference), sandbox_link=sandbox_link,
                  paid=payment.status is Status.SUCCEEDED)


@get("/payments/invoices/{payment_id:str}/pdf", guards=[requires_login], include_in_schema=False)
async def invoice_download(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> Response[bytes]:
    payment = await _invoice(request, payment_id)
    reference = payment.reference or gateway_of(request).reference(str(payment.id))
    pdf = await invoice_pdf(invoice_context(payment=payment, settings=settings_of(request), reference=reference,
                                            platform_name=request.app.state.platform.core.platform.name))
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="invoice-{reference}.pdf"'})


@get("/admin/payments/bank", guards=[requires("payments.view")], include_in_schema=False)
async def bank_desk(request: Request[Any, Any, Any]) -> Template:
    store = service(request).store
    invoices = await store.search(gateway="bank_transfer", kind=Kind.TOPUP.value, status=Status.PENDING.value)
    pending = await store.search(gateway="bank_transfer", kind=Kind.WITHDRAWAL.value, status=Status.PENDING.value)
    payouts = [(p, service(request).payout_details(p)) for p in pending]
    db = request.app.state.platform.db
    recent = await db.fetch(
        """SELECT line_id, booked_on, amount_minor, currency, counterparty, purpose, outcome, payment_id
           FROM payments_bank_statement_lines ORDER BY id DESC LIMIT 50""")
    return render(request, "bank_transfer/desk.html", invoices=invoices, payouts=payouts, lines=recent,
                  summary=None)


@post("/admin/payments/bank/import", guards=[requires("payments.manage")], include_in_schema=False,
      status_code=200)
async def bank_import(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    upload = form.get("statement")
    if not isinstance(upload, UploadFile):
        raise ValidationException("statement: choose the CSV file of the bank statement")
    data = await upload.read()
    if len(data) > MAX_STATEMENT_BYTES:
        raise ValidationException(f"statement: the file is larger than {MAX_STATEMENT_BYTES // 1024 // 1024} MB")
    summary = await _import(request, data)
    return render(request, "bank_transfer/desk.html", invoices=[], payouts=[], lines=[], summary=summary)


async def _import(request: Request[Any, Any, Any], data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1251")  # what Russian banks' exports often are
    identity = identity_of(request)
    return await import_statement(request.app.state.platform, text, gateway="bank_transfer",
                                  currency=settings_of(request).currency, actor=f"admin:{identity.user_id}")


@post("/api/v1/admin/payments/bank/statements", guards=[requires("payments.manage")], tags=["payments admin"],
      status_code=200, summary="Import a bank statement (CSV as the body); invoices it pays are credited")
async def api_bank_import(request: Request[Any, Any, Any]) -> Response[Any]:
    data = await request.body()
    if len(data) > MAX_STATEMENT_BYTES:
        raise ValidationException("body: the statement is larger than 5 MB")
    summary = await _import(request, data)
    return Response(summary.as_json(), media_type=MediaType.JSON)


ROUTES = [invoice_page, invoice_download, bank_desk, bank_import, api_bank_import]
