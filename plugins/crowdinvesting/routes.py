"""What customers see and do: projects and their stages, investing, the portfolio, the income
calculator, gift certificates and referral links. Pages under ``/crowdinvesting/``, the same
actions as JSON under ``/api/v1/crowdinvesting/``."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Redirect

from core.access import identity_of, requires_login
from core.projects import ProjectService, forms
from core.projects.errors import Conflict, Invalid, NotFound
from core.projects.models import PUBLICATION_LABELS, STATUS_LABELS, Project
from core.projects.reports import planned_vs_actual
from core.web.i18n import gettext as _
from core.web.templating import render
from plugins.crowdinvesting import calculator, portfolio
from plugins.crowdinvesting.certificates import CertificateService
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.referrals import ReferralService, check_code
from plugins.crowdinvesting.web import done, done_message, dual_post, platform_of

TAGS = ["crowdinvesting"]
REFERRAL_COOKIE = "kopilka_ref"


def settings_of(request: Request[Any, Any, Any]) -> Any:
    return platform_of(request).settings("crowdinvesting")


def user_of(request: Request[Any, Any, Any]) -> uuid.UUID:
    user_id = identity_of(request).user_id
    assert user_id is not None  # guarded by requires_login
    return user_id


async def crowd_projects(request: Request[Any, Any, Any]) -> list[tuple[Project, Any]]:
    service = platform_of(request).service(ProjectService)
    found = []
    for project in await service.projects(visibility=["published"], kind="crowdinvesting"):
        found.append((project, await service.stages(project.id)))
    return found


async def crowd_project(request: Request[Any, Any, Any], key: str) -> Project:
    project = await platform_of(request).service(ProjectService).project(key)
    if project.kind != "crowdinvesting" or project.visibility not in ("published", "archived"):
        raise NotFound(f"no project {key}")
    return project


# -- pages ----------------------------------------------------------------------------------------


async def claim_remembered_referral(request: Request[Any, Any, Any], response: Any) -> Any:
    """A newcomer who followed a referral link before signing in (or registering) is recorded now."""
    code = request.cookies.get(REFERRAL_COOKIE)
    identity = identity_of(request)
    if not code or not identity.is_authenticated:
        return response
    try:
        await platform_of(request).service(ReferralService).claim(identity.user_id, check_code(code))
    except (Conflict, NotFound, Invalid):
        pass  # self-referral, already referred, already invested: the link simply does not count
    response.delete_cookie(REFERRAL_COOKIE)
    return response


@get("/crowdinvesting", include_in_schema=False, name="crowd-projects")
async def projects_page(request: Request[Any, Any, Any]) -> Any:
    page = render(request, "crowdinvesting/projects.html", projects=await crowd_projects(request),
                  status_labels=STATUS_LABELS, done=done_message(request))
    return await claim_remembered_referral(request, page)


@get("/crowdinvesting/projects/{key:str}", include_in_schema=False, name="crowd-project")
async def project_page(request: Request[Any, Any, Any], key: FromPath[str]) -> Any:
    platform = platform_of(request)
    project = await crowd_project(request, key)
    projects = platform.service(ProjectService)
    investments = platform.service(InvestmentService)
    identity = identity_of(request)
    allowance = await investments.allowance(identity.user_id) if identity.is_authenticated else None
    return render(request, "crowdinvesting/project.html", project=project,
                  report=await planned_vs_actual(projects, project.id),
                  collecting=await projects.collecting_stage(project.id), terms=await investments.terms(project.id),
                  publications=(await projects.publications(project.id))[:10], allowance=allowance,
                  status_labels=STATUS_LABELS, publication_labels=PUBLICATION_LABELS,
                  request_key=str(uuid.uuid4()))


@get("/crowdinvesting/portfolio", guards=[requires_login], include_in_schema=False, name="crowd-portfolio")
async def portfolio_page(request: Request[Any, Any, Any]) -> Any:
    platform = platform_of(request)
    user_id = user_of(request)
    holdings = await portfolio.portfolio(platform, user_id)
    page = render(request, "crowdinvesting/portfolio.html", holdings=holdings, totals=portfolio.totals(holdings),
                  allowance=await platform.service(InvestmentService).allowance(user_id),
                  balance=await platform.service(InvestmentService).accounts.wallet_balance(user_id),
                  currency=settings_of(request).currency, status_labels=STATUS_LABELS,
                  done=done_message(request))
    return await claim_remembered_referral(request, page)


async def _projection(request: Request[Any, Any, Any], key: str, amount: Any, months: Any) -> tuple[Project, Any]:
    platform = platform_of(request)
    project = await crowd_project(request, key)
    amount_minor = forms.amount_minor(amount, project.currency, "amount")
    try:
        months_value = int(months) if months not in (None, "") else None
    except ValueError:
        raise Invalid(f"{months!r} is not a number of months", field="months") from None
    if months_value is not None and not 1 <= months_value <= 600:
        raise Invalid("between 1 and 600 months", field="months")
    terms = await platform.service(InvestmentService).terms(project.id)
    stage = await platform.service(ProjectService).collecting_stage(project.id)
    return project, calculator.project(amount_minor, terms, stage, months_value)


@get("/crowdinvesting/calculator", include_in_schema=False, name="crowd-calculator")
async def calculator_page(request: Request[Any, Any, Any]) -> Any:
    query = request.query_params
    projects = await crowd_projects(request)
    result = error = None
    chosen = query.get("project") or (projects[0][0].slug if projects else None)
    if chosen and query.get("amount"):
        try:
            _project, result = await _projection(request, chosen, query.get("amount"), query.get("months"))
        except (Invalid, NotFound) as exc:
            error = exc.detail
    return render(request, "crowdinvesting/calculator.html", projects=projects, chosen=chosen, result=result,
                  error=error, amount=query.get("amount", ""), months=query.get("months", ""),
                  currency=settings_of(request).currency)


@get("/crowdinvesting/certificates", guards=[requires_login], include_in_schema=False, name="crowd-certificates")
async def certificates_page(request: Request[Any, Any, Any]) -> Any:
    platform = platform_of(request)
    service = platform.service(CertificateService)
    user_id = user_of(request)
    bought = [service.as_buyer_json(c) | {"object": c} for c in await service.certificates(buyer_id=user_id)]
    return render(request, "crowdinvesting/certificates.html", bought=bought,
                  received=await service.certificates(redeemed_by=user_id), projects=await crowd_projects(request),
                  settings=settings_of(request), request_key=str(uuid.uuid4()), done=done_message(request))


@get("/crowdinvesting/referral", guards=[requires_login], include_in_schema=False, name="crowd-referral")
async def referral_page(request: Request[Any, Any, Any]) -> Any:
    service = platform_of(request).service(ReferralService)
    code = await service.code_for(user_of(request))
    settings = settings_of(request)
    amounts = {"min_first": settings.minor(service.rules.min_first_investment),
               "referrer": settings.minor(service.rules.referrer_bonus),
               "referred": settings.minor(service.rules.referred_bonus)}
    return render(request, "crowdinvesting/referral.html", code=code, link=service.link(code),
                  referrals=await service.referrals_of(user_of(request)), rules=service.rules, amounts=amounts,
                  currency=settings_of(request).currency, done=done_message(request))


@get("/crowdinvesting/r/{code:str}", include_in_schema=False, name="crowd-referral-link")
async def referral_link(request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
    """A referral link: signed-in newcomers are recorded at once; others sign in first and come back.

    A link that does not count for the signed-in customer (their own, or they invested already...)
    answers with the page that says why.
    """
    code = check_code(code)
    identity = identity_of(request)
    if not identity.is_authenticated:
        response = Redirect(f"/login?next=/crowdinvesting/r/{code}", status_code=303)
        response.set_cookie(REFERRAL_COOKIE, code, max_age=30 * 24 * 3600, samesite="lax", httponly=True)
        return response
    await platform_of(request).service(ReferralService).claim(identity.user_id, code)
    return Redirect(done("/crowdinvesting", "Welcome! Your first investment earns the referral bonus"), status_code=303)


# -- actions (form and JSON) ---------------------------------------------------------------------------


async def _invest(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    key = request.path_params["key"]
    project = await crowd_project(request, key)
    amount = forms.amount_minor(fields.get("amount"), project.currency, "amount")
    idempotency = request.headers.get("idempotency-key") or fields.get("idempotency_key")
    investment = await platform_of(request).service(InvestmentService).invest(
        user_of(request), project.id, amount, idempotency_key=str(idempotency) if idempotency else None)
    return investment.as_json(), done("/crowdinvesting/portfolio", "Investment made")


async def _buy_certificate(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = platform_of(request).service(CertificateService)
    currency = settings_of(request).currency
    idempotency = request.headers.get("idempotency-key") or fields.get("idempotency_key")
    certificate, code = await service.buy(
        user_of(request), amount_minor=forms.amount_minor(fields.get("amount"), currency, "amount"),
        recipient_name=str(fields.get("recipient_name") or ""), message=str(fields.get("message") or ""),
        idempotency_key=str(idempotency) if idempotency else None)
    # The code is a bearer secret: never in a URL (history, logs); the buyer's page lists it.
    return {**certificate.as_json(), "code": code}, done("/crowdinvesting/certificates", "Certificate bought")


async def _redeem(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    project = fields.get("project")
    if not project:
        raise Invalid(_("choose the project to invest the certificate in"), field="project")
    investment = await platform_of(request).service(CertificateService).redeem(
        user_of(request), str(fields.get("code") or ""), str(project))
    return investment.as_json(), done("/crowdinvesting/portfolio", "Certificate invested")


async def _claim(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    code = check_code(str(fields.get("code") or ""))
    referral = await platform_of(request).service(ReferralService).claim(user_of(request), code)
    return referral, done("/crowdinvesting", "Referral recorded")


async def _declare(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    service = platform_of(request).service(InvestmentService)
    try:
        year = int(fields.get("year") or service.today().year)
    except ValueError:
        raise Invalid("a year such as 2026", field="year") from None
    allowance = await service.declare_elsewhere(
        user_of(request), year=year,
        amount_minor=forms.amount_minor(fields.get("amount"), settings_of(request).currency, "amount",
                                        allow_zero=True))
    return allowance.as_json(), done("/crowdinvesting/portfolio", "Declaration saved")


ACTIONS = [
    dual_post("/crowdinvesting/projects/{key:str}/invest", "/api/v1/crowdinvesting/projects/{key:str}/investments",
              _invest, guards=[requires_login], summary="Invest from the balance in the collecting stage", tags=TAGS,
              status_code=201),
    dual_post("/crowdinvesting/certificates", "/api/v1/crowdinvesting/certificates", _buy_certificate,
              guards=[requires_login], summary="Buy a gift certificate from the balance", tags=TAGS, status_code=201),
    dual_post("/crowdinvesting/certificates/redeem", "/api/v1/crowdinvesting/certificates/redeem", _redeem,
              guards=[requires_login], summary="Invest a gift certificate in a project", tags=TAGS, status_code=201),
    dual_post("/crowdinvesting/referral/claim", "/api/v1/crowdinvesting/referral/claim", _claim,
              guards=[requires_login], summary="Record the referral link a newcomer came through", tags=TAGS),
    dual_post("/crowdinvesting/limits/declared", "/api/v1/crowdinvesting/limits/declared", _declare,
              guards=[requires_login], summary="Declare this year's investments through other platforms", tags=TAGS),
]


# -- reads as JSON -------------------------------------------------------------------------------------------


@get("/api/v1/crowdinvesting/projects", tags=TAGS, summary="Projects open to investors, with their stages")
async def api_projects(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    investments = platform_of(request).service(InvestmentService)
    return [{**p.as_json(), "terms": (await investments.terms(p.id)).as_json(),
             "stages": [s.as_json() for s in stages]} for p, stages in await crowd_projects(request)]


@get("/api/v1/crowdinvesting/projects/{key:str}", tags=TAGS, summary="A project: stages, progress, terms")
async def api_project(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, Any]:
    platform = platform_of(request)
    project = await crowd_project(request, key)
    stages = await platform.service(ProjectService).stages(project.id)
    return {**project.as_json(), "terms": (await platform.service(InvestmentService).terms(project.id)).as_json(),
            "stages": [s.as_json() for s in stages]}


@get("/api/v1/crowdinvesting/portfolio", guards=[requires_login], tags=TAGS,
     summary="My investments, shares and income received")
async def api_portfolio(request: Request[Any, Any, Any]) -> dict[str, Any]:
    platform = platform_of(request)
    holdings = await portfolio.portfolio(platform, user_of(request))
    allowance = await platform.service(InvestmentService).allowance(user_of(request))
    return {"projects": [h.as_json() for h in holdings], **portfolio.totals(holdings),
            "currency": settings_of(request).currency, "limit": allowance.as_json()}


@get("/api/v1/crowdinvesting/calculator", tags=TAGS,
     summary="Expected income of an amount in a project (query: project, amount, months)")
async def api_calculator(request: Request[Any, Any, Any]) -> dict[str, Any]:
    query = request.query_params
    if not query.get("project"):
        raise Invalid("name the project (its id or address)", field="project")
    project, result = await _projection(request, query["project"], query.get("amount"), query.get("months"))
    return {"project": project.slug, **result.as_json(project.currency)}


@get("/api/v1/crowdinvesting/certificates", guards=[requires_login], tags=TAGS,
     summary="Certificates I bought (with codes while redeemable) and redeemed")
async def api_certificates(request: Request[Any, Any, Any]) -> dict[str, Any]:
    service = platform_of(request).service(CertificateService)
    user_id = user_of(request)
    return {"bought": [service.as_buyer_json(c) for c in await service.certificates(buyer_id=user_id)],
            "redeemed": [c.as_json() for c in await service.certificates(redeemed_by=user_id)]}


@get("/api/v1/crowdinvesting/referral", guards=[requires_login], tags=TAGS, summary="My referral link and referrals")
async def api_referral(request: Request[Any, Any, Any]) -> dict[str, Any]:
    service = platform_of(request).service(ReferralService)
    code = await service.code_for(user_of(request))
    return {"code": code, "link": service.link(code), "referrals": await service.referrals_of(user_of(request))}


@get("/api/v1/crowdinvesting/limits", guards=[requires_login], tags=TAGS,
     summary="How much I may still invest this calendar year (259-FZ)")
async def api_limits(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return (await platform_of(request).service(InvestmentService).allowance(user_of(request))).as_json()


ROUTES = [projects_page, project_page, portfolio_page, calculator_page, certificates_page, referral_page,
          referral_link, *ACTIONS, api_projects, api_project, api_portfolio, api_calculator, api_certificates,
          api_referral, api_limits]
