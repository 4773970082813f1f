"""Lending on the web: the calculator, applying, signing, the borrower's loans, and the back office.

Pages under ``/lending/`` and ``/admin/lending/``; every action is also JSON under
``/api/v1/lending/`` and ``/api/v1/admin/lending/`` (one handler serves both: a form post is
answered with a redirect, a JSON call with the record).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.access import identity_of, requires, requires_login
from core.projects import forms
from core.projects.errors import Invalid
from core.web.templating import render
from plugins.lending.products import text_field
from plugins.lending.service import LendingService, application_json, balance_of, loan_json

TAGS = ["lending"]
ADMIN_TAGS = ["lending admin"]
STATUSES = ("submitted", "approved", "rejected", "signed", "cancelled")
LOAN_STATUSES = ("active", "overdue", "repaid")


def service_of(request: Request[Any, Any, Any]) -> LendingService:
    return request.app.state.platform.service(LendingService)


def user_of(request: Request[Any, Any, Any]) -> uuid.UUID:
    user_id = identity_of(request).user_id
    assert user_id is not None  # guarded by requires_login
    return user_id


def term_of(value: Any, field: str = "term_days") -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(f"{value!r} is not a number of days", field=field) from None
    if not 1 <= days <= 366:
        raise Invalid("from 1 to 366 days", field=field)
    return days


def choice(value: Any, allowed: tuple[str, ...], field: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise Invalid(f"one of {', '.join(allowed)}", field=field)
    return str(value)


def done(path: str, message: str) -> str:
    return f"{path}?done={quote(message)}"


def action(page_path: str, api_path: str, fn: forms.ActionFn, **route: Any) -> Any:
    return forms.action(page_path, api_path, fn, name=fn.__name__.strip("_"), **route)


# -- calculator and products ------------------------------------------------------------------------


async def _quote(request: Request[Any, Any, Any], fields: dict[str, Any]) -> Any:
    service = service_of(request)
    identity = identity_of(request)
    amount = forms.amount_minor(fields.get("amount"), service.settings.currency, "amount")
    term = term_of(fields.get("term_days"))
    return await service.calculate(amount, term, text_field(fields.get("product"), "product", 40),
                                   identity.user_id if identity.is_authenticated else None)


@get("/api/v1/lending/calculate", tags=TAGS, summary="What a loan would cost: schedule, total, PSK")
async def calculate_api(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return (await _quote(request, dict(request.query_params))).as_json()


@get("/api/v1/lending/products", tags=TAGS, summary="The loan products offered now")
async def products_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [p.as_json() for p in await service_of(request).products.all(active_only=True)]


@get(["/lending", "/lending/calculator"], include_in_schema=False, name="lending-calculator")
async def calculator_page(request: Request[Any, Any, Any]) -> Any:
    service = service_of(request)
    params = dict(request.query_params)
    result, error = None, None
    if params.get("amount"):
        try:
            result = await _quote(request, params)
        except Invalid as exc:
            error = exc.detail
    return render(request, "lending/calculator.html", products=await service.products.all(active_only=True),
                  result=result, error=error, amount=params.get("amount", ""), term_days=params.get("term_days", ""),
                  currency=service.settings.currency, request_key=str(uuid.uuid4()))


# -- applying and signing ---------------------------------------------------------------------------


async def _apply(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = service_of(request)
    amount = forms.amount_minor(fields.get("amount"), service.settings.currency, "amount")
    term = term_of(fields.get("term_days"))
    names = {k: text_field(fields.get(k), k, 100) for k in ("last_name", "first_name", "middle_name")}
    names = {k: v for k, v in names.items() if v}
    if fields.get("birth_date"):
        names["birth_date"] = forms.date_of(text_field(fields["birth_date"], "birth_date", 10), "birth_date")
    application = await service.apply(user_of(request), amount, term,
                                      product_code=text_field(fields.get("product"), "product", 40),
                                      idempotency_key=text_field(fields.get("idempotency_key"), "idempotency_key", 100),
                                      names=names)
    return application_json(application), f"/lending/applications/{application['id']}"


async def _send_code(request: Request[Any, Any, Any], application_id: uuid.UUID) -> tuple[Any, str]:
    challenge = await service_of(request).request_signature(application_id, user_of(request))
    body = {"challenge_id": str(challenge.id), "sent_to": challenge.sent_to,
            "expires_at": challenge.expires_at.isoformat()}
    return body, f"/lending/applications/{application_id}?code_sent=1"


@post(["/lending/applications/{application_id:uuid}/code", "/api/v1/lending/applications/{application_id:uuid}/code"],
      guards=[requires_login], tags=TAGS, summary="Send the one-time code that signs the agreement", status_code=200)
async def send_code(request: Request[Any, Any, Any], application_id: FromPath[uuid.UUID]) -> Any:
    body, next_url = await _send_code(request, application_id)
    return body if forms.is_api(request) else Redirect(next_url, status_code=303)


@post(["/lending/applications/{application_id:uuid}/sign", "/api/v1/lending/applications/{application_id:uuid}/sign"],
      guards=[requires_login], tags=TAGS, summary="Sign the agreement with the code; the loan goes to the wallet",
      status_code=200)
async def sign(request: Request[Any, Any, Any], application_id: FromPath[uuid.UUID]) -> Any:
    fields, _ = await forms.read_input(request)
    code = text_field(fields.get("code"), "code", 20)
    if not code:
        raise Invalid("enter the code from the message", field="code")
    loan = await service_of(request).sign(application_id, user_of(request), code)
    if forms.is_api(request):
        return loan_json(loan)
    return Redirect(done(f"/lending/loans/{loan['id']}", "signed"), status_code=303)


async def _cancel(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    application_id = forms.uuid_of(request.path_params["application_id"], "application_id")
    row = await service_of(request).cancel(application_id, user_of(request))
    return application_json(row), f"/lending/applications/{application_id}"


@get("/api/v1/lending/applications", guards=[requires_login], tags=TAGS, summary="My applications")
async def my_applications_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [application_json(a) for a in await service_of(request).applications(user_id=user_of(request))]


@get("/api/v1/lending/applications/{application_id:uuid}", guards=[requires_login], tags=TAGS,
     summary="One of my applications")
async def my_application_api(request: Request[Any, Any, Any], application_id: FromPath[uuid.UUID]) -> dict[str, Any]:
    return application_json(await service_of(request).application(application_id, user_of(request)))


@get("/lending/applications/{application_id:uuid}", guards=[requires_login], include_in_schema=False,
     name="lending-application")
async def application_page(request: Request[Any, Any, Any], application_id: FromPath[uuid.UUID]) -> Any:
    application = await service_of(request).application(application_id, user_of(request))
    return render(request, "lending/application.html", application=application,
                  code_sent=bool(request.query_params.get("code_sent")))


# -- my loans ---------------------------------------------------------------------------------------


async def loan_detail(service: LendingService, loan: Any) -> dict[str, Any]:
    return {**loan_json(loan),
            "schedule": [{"number": i["number"], "due_on": i["due_on"].isoformat(),
                          "principal_minor": i["principal_minor"], "interest_minor": i["interest_minor"]}
                         for i in await service.instalments(loan["id"])],
            "payments": [{"id": str(p["id"]), "kind": p["kind"], "amount_minor": p["amount_minor"],
                          "penalty_minor": p["penalty_minor"], "interest_minor": p["interest_minor"],
                          "principal_minor": p["principal_minor"], "business_date": p["business_date"].isoformat(),
                          "new_due_on": p["new_due_on"].isoformat() if p["new_due_on"] else None}
                         for p in await service.payments(loan["id"])]}


@get("/api/v1/lending/loans", guards=[requires_login], tags=TAGS, summary="My loans with their balance due")
async def my_loans_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [loan_json(loan) for loan in await service_of(request).loans(user_id=user_of(request))]


@get("/api/v1/lending/loans/{loan_id:uuid}", guards=[requires_login], tags=TAGS,
     summary="One of my loans: balance due, schedule, payments")
async def my_loan_api(request: Request[Any, Any, Any], loan_id: FromPath[uuid.UUID]) -> dict[str, Any]:
    service = service_of(request)
    return await loan_detail(service, await service.loan(loan_id, user_of(request)))


@get("/lending/loans", guards=[requires_login], include_in_schema=False, name="lending-loans")
async def my_loans_page(request: Request[Any, Any, Any]) -> Any:
    service = service_of(request)
    user_id = user_of(request)
    return render(request, "lending/loans.html", loans=await service.loans(user_id=user_id),
                  applications=await service.applications(user_id=user_id), balance_of=balance_of)


@get("/lending/loans/{loan_id:uuid}", guards=[requires_login], include_in_schema=False, name="lending-loan")
async def my_loan_page(request: Request[Any, Any, Any], loan_id: FromPath[uuid.UUID]) -> Any:
    service = service_of(request)
    loan = await service.loan(loan_id, user_of(request))
    return render(request, "lending/loan.html", loan=loan, owed=balance_of(loan),
                  schedule=await service.instalments(loan_id), payments=await service.payments(loan_id),
                  wallet=await service.accounts.wallet_balance(loan["user_id"]), request_key=str(uuid.uuid4()),
                  done=request.query_params.get("done"))


def _loan_id(request: Request[Any, Any, Any]) -> uuid.UUID:
    return forms.uuid_of(request.path_params["loan_id"], "loan_id")


def _key(fields: dict[str, Any]) -> str:
    key = text_field(fields.get("idempotency_key"), "idempotency_key", 100)
    if not key:
        raise Invalid("give each payment a unique key (a retry sends the same one)", field="idempotency_key")
    return str(key)


async def _repay(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = service_of(request)
    loan_id = _loan_id(request)
    flag = fields.get("full")
    full = flag if isinstance(flag, bool) else forms.flag(text_field(flag, "full", 10))
    full = full or fields.get("amount") in (None, "")
    amount = None if full else forms.amount_minor(fields.get("amount"), service.settings.currency, "amount")
    payment = await service.repay(loan_id, user_of(request), amount, idempotency_key=_key(fields))
    loan = await service.loan(loan_id)
    return {"payment_id": str(payment["id"]), "loan": loan_json(loan)}, done(f"/lending/loans/{loan_id}", "repaid")


async def _extend(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = service_of(request)
    loan_id = _loan_id(request)
    payment = await service.extend(loan_id, user_of(request), idempotency_key=_key(fields))
    loan = await service.loan(loan_id)
    return {"payment_id": str(payment["id"]), "loan": loan_json(loan)}, done(f"/lending/loans/{loan_id}", "extended")


# -- back office ------------------------------------------------------------------------------------


@get("/api/v1/admin/lending/products", guards=[requires("lending.products")], tags=ADMIN_TAGS,
     summary="Every loan product")
async def admin_products_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    return [p.as_json() for p in await service_of(request).products.all()]


async def _save_product(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    product_id = request.path_params.get("product_id")
    fields = {k: v for k, v in fields.items() if k not in ("_csrf", "csrf_token") and v != ""}
    product = await service_of(request).products.save(fields, product_id)
    return product.as_json(), done("/admin/lending/products", "saved")


@get("/admin/lending/products", guards=[requires("lending.products")], include_in_schema=False,
     name="lending-admin-products")
async def admin_products_page(request: Request[Any, Any, Any]) -> Any:
    service = service_of(request)
    return render(request, "lending/admin_products.html", products=await service.products.all(),
                  currency=service.settings.currency, caps=service.settings.cap_rules,
                  done=request.query_params.get("done"))


@get("/api/v1/admin/lending/applications", guards=[requires("lending.view")], tags=ADMIN_TAGS,
     summary="Applications, the queue first (?status=submitted)")
async def admin_applications_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    status = choice(request.query_params.get("status"), STATUSES, "status")
    return [application_json(a) for a in await service_of(request).applications(status=status)]


@get("/admin/lending/applications", guards=[requires("lending.view")], include_in_schema=False,
     name="lending-admin-applications")
async def admin_applications_page(request: Request[Any, Any, Any]) -> Any:
    status = choice(request.query_params.get("status", "submitted"), STATUSES, "status")
    return render(request, "lending/admin_applications.html",
                  applications=await service_of(request).applications(status=status), status=status,
                  statuses=STATUSES, done=request.query_params.get("done"))


def _decision(approve: bool):
    async def decide(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
        application_id = forms.uuid_of(request.path_params["application_id"], "application_id")
        row = await service_of(request).decide(application_id, approve=approve,
                                                reason=text_field(fields.get("reason"), "reason", 500) or "",
                                                by=identity_of(request).actor)
        return application_json(row), done("/admin/lending/applications", row["status"])

    decide.__name__ = "approve_application" if approve else "reject_application"
    return decide


@get("/api/v1/admin/lending/loans", guards=[requires("lending.view")], tags=ADMIN_TAGS,
     summary="Loans (?status=overdue for the overdue ones)")
async def admin_loans_api(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    status = choice(request.query_params.get("status"), LOAN_STATUSES, "status")
    return [loan_json(loan) for loan in await service_of(request).loans(status=status)]


@get("/admin/lending/loans", guards=[requires("lending.view")], include_in_schema=False,
     name="lending-admin-loans")
async def admin_loans_page(request: Request[Any, Any, Any]) -> Any:
    status = choice(request.query_params.get("status"), LOAN_STATUSES, "status")
    return render(request, "lending/admin_loans.html", loans=await service_of(request).loans(status=status),
                  status=status, statuses=LOAN_STATUSES, balance_of=balance_of)


ROUTES = [
    calculate_api, products_api, calculator_page,
    action("/lending/apply", "/api/v1/lending/applications", _apply, guards=[requires_login],
           summary="Apply for a loan; the rules decide at once or leave it to a person", tags=TAGS, status_code=201),
    send_code, sign,
    action("/lending/applications/{application_id:uuid}/cancel",
           "/api/v1/lending/applications/{application_id:uuid}/cancel", _cancel, guards=[requires_login],
           summary="Withdraw an application that is not signed yet", tags=TAGS),
    my_applications_api, my_application_api, application_page,
    my_loans_api, my_loan_api, my_loans_page, my_loan_page,
    action("/lending/loans/{loan_id:uuid}/repay", "/api/v1/lending/loans/{loan_id:uuid}/repay", _repay,
           guards=[requires_login], summary="Repay from the wallet, in part or in full", tags=TAGS),
    action("/lending/loans/{loan_id:uuid}/extend", "/api/v1/lending/loans/{loan_id:uuid}/extend", _extend,
           guards=[requires_login], summary="Extend: pay the interest owed, the due date moves on", tags=TAGS),
    admin_products_api, admin_products_page,
    action("/admin/lending/products", "/api/v1/admin/lending/products", _save_product,
           guards=[requires("lending.products")], summary="Create a loan product", tags=ADMIN_TAGS, status_code=201),
    action("/admin/lending/products/{product_id:uuid}", "/api/v1/admin/lending/products/{product_id:uuid}",
           _save_product, guards=[requires("lending.products")], summary="Change a loan product", tags=ADMIN_TAGS),
    admin_applications_api, admin_applications_page,
    action("/admin/lending/applications/{application_id:uuid}/approve",
           "/api/v1/admin/lending/applications/{application_id:uuid}/approve", _decision(True),
           guards=[requires("lending.decide")], summary="Approve an application from the queue", tags=ADMIN_TAGS),
    action("/admin/lending/applications/{application_id:uuid}/reject",
           "/api/v1/admin/lending/applications/{application_id:uuid}/reject", _decision(False),
           guards=[requires("lending.decide")], summary="Reject an application from the queue", tags=ADMIN_TAGS),
    admin_loans_api, admin_loans_page,
]
