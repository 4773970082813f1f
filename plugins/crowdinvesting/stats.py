"""Fund-raising statistics for admins: per project and stage, and per day."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Figures:
    """Amount, investors, investments and the average ticket of one slice of investments."""

    amount_minor: int
    investors: int
    investments: int
    refunded_minor: int = 0

    @property
    def average_ticket_minor(self) -> int:
        # A display figure: whole kopecks, rounded half to even, exactly.
        return round(Fraction(self.amount_minor, self.investments)) if self.investments else 0

    def as_json(self) -> dict[str, Any]:
        return {"amount_minor": self.amount_minor, "investors": self.investors, "investments": self.investments,
                "average_ticket_minor": self.average_ticket_minor, "refunded_minor": self.refunded_minor}


def _figures(row: Any) -> Figures:
    return Figures(row["amount"] or 0, row["investors"] or 0, row["investments"] or 0, row["refunded"] or 0)


FIGURES = """coalesce(sum(i.amount_minor) FILTER (WHERE i.status = 'active'), 0)::bigint AS amount,
             count(DISTINCT i.user_id) FILTER (WHERE i.status = 'active') AS investors,
             count(*) FILTER (WHERE i.status = 'active') AS investments,
             coalesce(sum(i.amount_minor) FILTER (WHERE i.status = 'refunded'), 0)::bigint AS refunded"""


async def project_stats(db: Any, project_id: UUID, timezone: str) -> dict[str, Any]:
    total = await db.fetchrow(f"SELECT {FIGURES} FROM crowd_investments i WHERE i.project_id = $1", project_id)
    stages = await db.fetch(
        f"""SELECT s.id, s.position, s.title, s.status, {FIGURES}
            FROM projects_stages s LEFT JOIN crowd_investments i ON i.stage_id = s.id
            WHERE s.project_id = $1 GROUP BY s.id ORDER BY s.position""", project_id)
    days = await db.fetch(
        f"""SELECT (i.created_at AT TIME ZONE $2)::date AS day, {FIGURES}
            FROM crowd_investments i WHERE i.project_id = $1 GROUP BY day ORDER BY day""", project_id, timezone)
    return {
        "total": _figures(total),
        "stages": [{"id": r["id"], "position": r["position"], "title": r["title"], "status": r["status"],
                    "figures": _figures(r)} for r in stages],
        "days": [{"day": r["day"], "figures": _figures(r)} for r in days],
    }


def stats_json(stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "total": stats["total"].as_json(),
        "stages": [{"id": str(s["id"]), "position": s["position"], "title": s["title"], "status": s["status"],
                    **s["figures"].as_json()} for s in stats["stages"]],
        "days": [{"day": d["day"].isoformat(), **d["figures"].as_json()} for d in stats["days"]],
    }


async def overview(db: Any) -> list[dict[str, Any]]:
    """Every crowdinvesting project with its totals, for the admin dashboard."""
    rows = await db.fetch(
        f"""SELECT p.id, p.slug, p.title, p.visibility, {FIGURES}
            FROM projects_projects p LEFT JOIN crowd_investments i ON i.project_id = p.id
            WHERE p.kind = 'crowdinvesting' GROUP BY p.id ORDER BY p.created_at DESC""")
    return [{"id": r["id"], "slug": r["slug"], "title": r["title"], "visibility": r["visibility"],
             "figures": _figures(r)} for r in rows]
