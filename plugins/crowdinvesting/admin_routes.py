"""Admin pages and API of crowdinvesting: fund-raising statistics, terms, income, investors, certificates."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get
from litestar.params import FromPath

from core.access import identity_of, requires
from core.access.approvals import Approvals
from core.projects import ProjectService, forms
from core.projects.errors import Invalid
from core.projects.models import STATUS_LABELS
from core.web.templating import render
from plugins.crowdinvesting import stats
from plugins.crowdinvesting.certificates import CertificateService
from plugins.crowdinvesting.distribution import IncomeService
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.referrals import ReferralService
from plugins.crowdinvesting.web import done, done_message, dual_post, platform_of

TAGS = ["crowdinvesting admin"]
#: Paging further than PostgreSQL's OFFSET (a bigint) accepts failed in the database.
MAX_OFFSET = 2**31 - 1
VIEW, MANAGE, POST_INCOME, QUALIFY = ("crowdinvesting.view", "crowdinvesting.manage", "crowdinvesting.post_income",
                                      "crowdinvesting.qualify")


async def _project(request: Request[Any, Any, Any], key: str) -> Any:
    return await platform_of(request).service(ProjectService).project(key)


@get("/admin/crowdinvesting", guards=[requires(VIEW)], include_in_schema=False, name="crowd-admin")
async def dashboard(request: Request[Any, Any, Any]) -> Any:
    platform = platform_of(request)
    return render(request, "crowdinvesting/admin_dashboard.html", overview=await stats.overview(platform.db),
                  distributions=(await platform.service(IncomeService).distributions())[:20],
                  currency=platform.settings("crowdinvesting").currency)


@get("/admin/crowdinvesting/projects/{key:str}", guards=[requires(VIEW)], include_in_schema=False,
     name="crowd-admin-project")
async def project_page(request: Request[Any, Any, Any], key: FromPath[str]) -> Any:
    platform = platform_of(request)
    project = await _project(request, key)
    income = platform.service(IncomeService)
    return render(request, "crowdinvesting/admin_project.html", project=project,
                  stats=await stats.project_stats(platform.db, project.id, platform.core.platform.timezone),
                  terms=await platform.service(InvestmentService).terms(project.id),
                  stages=await platform.service(ProjectService).stages(project.id),
                  distributions=await income.distributions(project.id), status_labels=STATUS_LABELS,
                  done=done_message(request))


@get("/admin/crowdinvesting/investors", guards=[requires(VIEW)], include_in_schema=False, name="crowd-admin-investors")
async def investors_page(request: Request[Any, Any, Any]) -> Any:
    platform = platform_of(request)
    rows = await platform.db.fetch(
        """SELECT v.user_id, v.qualified, v.qualified_until, u.display_name,
                  coalesce(sum(i.amount_minor) FILTER (WHERE i.status = 'active'), 0)::bigint AS invested,
                  count(i.id) FILTER (WHERE i.status = 'active') AS investments
           FROM crowd_investors v LEFT JOIN crowd_investments i ON i.user_id = v.user_id
           LEFT JOIN users_users u ON u.id = v.user_id
           GROUP BY v.user_id, u.display_name ORDER BY invested DESC, v.user_id LIMIT 500""")
    return render(request, "crowdinvesting/admin_investors.html", investors=rows,
                  currency=platform.settings("crowdinvesting").currency, done=done_message(request))


@get("/admin/crowdinvesting/certificates", guards=[requires(VIEW)], include_in_schema=False,
     name="crowd-admin-certificates")
async def certificates_page(request: Request[Any, Any, Any]) -> Any:
    platform = platform_of(request)
    return render(request, "crowdinvesting/admin_certificates.html",
                  certificates=await platform.service(CertificateService).certificates(),
                  referrals=await platform.service(ReferralService).all())


# -- actions ---------------------------------------------------------------------------------------------


def _percent_bp(value: Any, field: str) -> int:
    try:
        bp = Decimal(str(value or "0").replace(",", ".")) * 100
    except InvalidOperation:
        raise Invalid(f"{value!r} is not a percentage", field=field) from None
    if not bp.is_finite():
        raise Invalid(f"{value!r} is not a percentage", field=field)
    if bp != bp.to_integral_value():
        raise Invalid("at most two decimal places", field=field)
    return int(bp)


async def _terms(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    project = await _project(request, request.path_params["key"])
    cur = project.currency
    try:
        months = int(fields.get("term_months") or 12)
    except ValueError:
        raise Invalid("a whole number of months", field="term_months") from None
    terms = await platform_of(request).service(InvestmentService).set_terms(
        project.id, min_investment_minor=forms.amount_minor(fields.get("min_investment"), cur, "min_investment"),
        max_per_investor_minor=forms.amount_minor(fields["max_per_investor"], cur, "max_per_investor")
        if str(fields.get("max_per_investor") or "").strip() else None,
        expected_yield_bp=_percent_bp(fields.get("expected_yield"), "expected_yield"), term_months=months,
        payout_period=str(fields.get("payout_period") or "quarter"))
    return terms.as_json(), done(f"/admin/crowdinvesting/projects/{project.id}", "Terms saved")


async def _income(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str, int]:
    """Post income: at once, or (maker-checker) once a second admin approves it."""
    project = await _project(request, request.path_params["key"])
    stage_id = forms.uuid_of(fields["stage_id"], "stage_id") if str(fields.get("stage_id") or "").strip() else None
    amount = forms.amount_minor(fields.get("amount"), project.currency, "amount")
    period = str(fields.get("period") or "").strip()
    if not period or len(period) > 40:
        raise Invalid("name the period, e.g. 2026-Q3 (up to 40 characters)", field="period")
    back = f"/admin/crowdinvesting/projects/{project.id}"
    already = await platform_of(request).service(IncomeService).existing(project.id, stage_id, period, amount)
    if already is not None:  # posting it again creates nothing, not even a request for approval
        return {"status": "executed", **already.as_json()}, done(back, "This income was already distributed"), 200
    outcome = await platform_of(request).service(Approvals).perform(
        identity_of(request), "crowdinvesting.post_income",
        {"project_id": str(project.id), "project_title": project.title, "stage_id": str(stage_id) if stage_id else None,
         "period": period, "amount_minor": amount, "currency": project.currency,
         "note": str(fields.get("note") or "")})
    return _outcome(outcome, back, "Income distributed")


async def _qualify(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str, int]:
    user_id = forms.uuid_of(request.path_params["user_id"], "user_id")
    until = forms.date_of(fields["until"], "until") if str(fields.get("until") or "").strip() else None
    outcome = await platform_of(request).service(Approvals).perform(
        identity_of(request), "crowdinvesting.qualify",
        {"user_id": str(user_id), "qualified": forms.flag(fields.get("qualified", False)),
         "until": until.isoformat() if until else None})
    return _outcome(outcome, "/admin/crowdinvesting/investors", "Investor status saved")


def _outcome(outcome: Any, back: str, message: str) -> tuple[dict[str, Any], str, int]:
    if outcome.pending:
        body = {"status": "pending", "approval_id": str(outcome.approval_id)}
        return body, done(back, "Waiting for a second admin's approval"), 202
    return {"status": outcome.status, **dict(outcome.result or {})}, done(back, message), 200


async def _refund(request: Request[Any, Any, Any], fields: dict[str, Any]) -> tuple[Any, str]:
    stage_id = forms.uuid_of(request.path_params["stage_id"], "stage_id")
    refunded = await platform_of(request).service(InvestmentService).refund_stage(stage_id)
    stage = await platform_of(request).service(ProjectService).stage(stage_id)
    return {"refunded": refunded, "stage": stage.as_json()}, done(
        f"/admin/crowdinvesting/projects/{stage.project_id}", "Refunds made")


ACTIONS = [
    dual_post("/admin/crowdinvesting/projects/{key:str}/terms", "/api/v1/admin/crowdinvesting/projects/{key:str}/terms",
              _terms, guards=[requires(MANAGE)], summary="Set a project's investment terms", tags=TAGS),
    dual_post("/admin/crowdinvesting/projects/{key:str}/income",
              "/api/v1/admin/crowdinvesting/projects/{key:str}/income", _income, guards=[requires(POST_INCOME)],
              summary="Post income for a period: paid to investors pro rata, exactly; once per period (202: waits "
                      "for a second admin's approval)", tags=TAGS),
    dual_post("/admin/crowdinvesting/investors/{user_id:str}/qualification",
              "/api/v1/admin/crowdinvesting/investors/{user_id:str}/qualification", _qualify,
              guards=[requires(QUALIFY)], summary="Record or withdraw qualified-investor status", tags=TAGS),
    dual_post("/admin/crowdinvesting/stages/{stage_id:str}/refund",
              "/api/v1/admin/crowdinvesting/stages/{stage_id:str}/refund", _refund, guards=[requires(MANAGE)],
              summary="Refund every investor of a failed stage now", tags=TAGS),
]


@get("/api/v1/admin/crowdinvesting/projects/{key:str}/stats", guards=[requires(VIEW)], tags=TAGS,
     summary="Fund-raising statistics: per stage and per day")
async def api_stats(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, Any]:
    platform = platform_of(request)
    project = await _project(request, key)
    return {"project": project.as_json(),
            **stats.stats_json(await stats.project_stats(platform.db, project.id, platform.core.platform.timezone))}


@get("/api/v1/admin/crowdinvesting/distributions/{distribution_id:str}", guards=[requires(VIEW)], tags=TAGS,
     summary="A distribution and its payouts (largest first; page with offset)")
async def api_distribution(request: Request[Any, Any, Any], distribution_id: FromPath[str]) -> dict[str, Any]:
    income = platform_of(request).service(IncomeService)
    did = forms.uuid_of(distribution_id, "distribution_id")
    distribution = await income.distribution(did)
    try:
        offset = max(int(request.query_params.get("offset", 0)), 0)
    except ValueError:
        raise Invalid("a whole number", field="offset") from None
    if offset > MAX_OFFSET:
        raise Invalid(f"at most {MAX_OFFSET}", field="offset")
    return {**distribution.as_json(), "payouts": await income.payouts(did, offset=offset)}


ADMIN_ROUTES = [dashboard, investors_page, certificates_page, project_page, *ACTIONS, api_stats, api_distribution]
