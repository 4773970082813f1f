"""Background work of crowdinvesting. Every task is safe to run twice: money moves only by
transfers whose ids come from the records they settle."""

from __future__ import annotations

from typing import Any
from uuid import UUID


async def refund_stage(platform: Any, stage_id: str) -> int:
    """Refund every investor of one failed stage (kicked when a stage fails)."""
    from plugins.crowdinvesting.investing import InvestmentService

    return await platform.service(InvestmentService).refund_stage(UUID(stage_id))


async def refund_failed_stages(platform: Any) -> int:
    """Janitor: refund any failed stage a lost kick left behind."""
    from plugins.crowdinvesting.investing import InvestmentService

    return await platform.service(InvestmentService).refund_failed_stages()


async def expire_certificates(platform: Any) -> int:
    """Return the amount of every certificate past its date to its buyer."""
    from plugins.crowdinvesting.certificates import CertificateService

    return await platform.service(CertificateService).expire_due()


async def pay_referral_bonuses(platform: Any) -> int:
    """Pay the referral bonuses the marketing account could not pay at the time."""
    from plugins.crowdinvesting.referrals import ReferralService

    return await platform.service(ReferralService).pay_unfunded()


async def notify_investors(platform: Any, project_id: str, kind: str, params: dict[str, Any]) -> int:
    """Tell every investor of a project (a publication, income paid, a stage funded or failed)."""
    from plugins.crowdinvesting.notify import Notices

    told = 0
    after = UUID(int=0)
    while True:
        rows = await platform.db.fetch(
            "SELECT DISTINCT user_id FROM crowd_investments WHERE project_id = $1 AND user_id > $2 "
            "ORDER BY user_id LIMIT 1000", UUID(project_id), after)
        if not rows:
            return told
        told += await Notices(platform).tell([r["user_id"] for r in rows], kind, params)
        after = rows[-1]["user_id"]


async def notify_users(platform: Any, user_ids: list[str], kind: str, params: dict[str, Any]) -> int:
    """Tell some users one thing (refunds of a batch)."""
    from plugins.crowdinvesting.notify import Notices

    return await Notices(platform).tell([UUID(u) for u in user_ids], kind, params)


async def confirm_investments(platform: Any, investment_ids: list[str]) -> int:
    """Confirm investments to their investors."""
    from plugins.crowdinvesting.notify import Notices

    rows = await platform.db.fetch(
        "SELECT i.user_id, i.amount_minor, i.currency, p.title AS project, s.title AS stage FROM crowd_investments i "
        "JOIN projects_projects p ON p.id = i.project_id JOIN projects_stages s ON s.id = i.stage_id "
        "WHERE i.id = ANY($1::uuid[])", [UUID(i) for i in investment_ids])
    notices = Notices(platform)
    for row in rows:
        await notices.tell([row["user_id"]], "investment_confirmed", {
            "project": row["project"], "stage": row["stage"], "amount_minor": row["amount_minor"],
            "currency": row["currency"]})
    return len(rows)
