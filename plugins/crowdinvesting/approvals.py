"""Maker-checker for crowdinvesting's sensitive admin actions (``core.access.approvals``).

Posting income (money leaves the platform's books for investors' wallets) and recording
qualified-investor status (it lifts the 259-FZ limit) are declared sensitive: the admin who
asks and the admin who approves must be two people. The route hands the action to
``Approvals.perform``; it runs at once when maker-checker is off, or when a second admin
holding the same permission approves it at ``/admin/access/approvals``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.access.approvals import ActionContext, ApprovalAction
from core.money import format_money
from core.projects import ProjectService
from core.projects.errors import Invalid


def _uuid(value: Any, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise Invalid(f"{value!r} is not an id", field=field) from None


async def _check_income(platform: Any, payload: dict[str, Any], identity: Any) -> None:
    from plugins.crowdinvesting.distribution import IncomeService

    project = await platform.service(ProjectService).project(_uuid(payload["project_id"], "project_id"))
    stage_id = _uuid(payload["stage_id"], "stage_id") if payload.get("stage_id") else None
    income = platform.service(IncomeService)
    # Refuses a period already paid with another amount, before anyone is asked to approve it.
    await income.existing(project.id, stage_id, str(payload["period"]), int(payload["amount_minor"]))


async def _run_income(platform: Any, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    from plugins.crowdinvesting.distribution import IncomeService

    distribution = await platform.service(IncomeService).distribute(
        _uuid(payload["project_id"], "project_id"), amount_minor=int(payload["amount_minor"]),
        period=str(payload["period"]), note=str(payload.get("note") or ""),
        stage_id=_uuid(payload["stage_id"], "stage_id") if payload.get("stage_id") else None,
        actor=ctx.maker.user_id, approved_by=ctx.checker.user_id if ctx.checker else None)
    return distribution.as_json()


def _describe_income(payload: dict[str, Any]) -> str:
    amount = format_money(int(payload["amount_minor"]), str(payload.get("currency") or "RUB"), "en")
    return f"Pay {amount} of income of project {payload.get('project_title', payload['project_id'])} " \
           f"for {payload['period']} to its investors"


async def _run_qualify(platform: Any, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    import datetime as dt

    from plugins.crowdinvesting.investing import InvestmentService

    until = dt.date.fromisoformat(payload["until"]) if payload.get("until") else None
    status = await platform.service(InvestmentService).set_qualified(
        _uuid(payload["user_id"], "user_id"), qualified=bool(payload["qualified"]), until=until,
        actor=ctx.acting.user_id)
    return {"user_id": str(status.user_id), "qualified": status.qualified,
            "qualified_until": status.qualified_until.isoformat() if status.qualified_until else None}


def _describe_qualify(payload: dict[str, Any]) -> str:
    if not payload.get("qualified"):
        return f"Withdraw qualified-investor status of user {payload['user_id']}"
    until = f" until {payload['until']}" if payload.get("until") else ""
    return f"Record user {payload['user_id']} as a qualified investor{until} (lifts the 259-FZ limit)"


def approval_actions() -> list[ApprovalAction]:
    return [
        ApprovalAction("crowdinvesting.post_income", "crowdinvesting.post_income", _run_income, _check_income,
                       _describe_income),
        ApprovalAction("crowdinvesting.qualify", "crowdinvesting.qualify", _run_qualify, None, _describe_qualify),
    ]
