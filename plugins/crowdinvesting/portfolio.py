"""An investor's portfolio: investments by project and stage, exact shares, income received."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any
from uuid import UUID

from core.projects import ProjectService
from core.projects.models import RAISED, Project, Stage, StageStatus
from plugins.crowdinvesting.distribution import IncomeService, share
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.models import Investment, percent, share_json


@dataclass
class StageHolding:
    stage: Stage
    invested_minor: int
    refunded_minor: int
    #: The investor's share of what the stage collected (for a stage still collecting: so far).
    share: Fraction

    @property
    def share_percent(self):
        return percent(self.share, 4)


@dataclass
class ProjectHolding:
    project: Project
    stages: list[StageHolding] = field(default_factory=list)
    investments: list[Investment] = field(default_factory=list)
    income_minor: int = 0
    #: The share income is paid by: the investor's money in the raised stages over all of it.
    share: Fraction = Fraction(0)

    @property
    def invested_minor(self) -> int:
        return sum(s.invested_minor for s in self.stages)

    @property
    def share_percent(self):
        return percent(self.share, 4)

    def as_json(self) -> dict[str, Any]:
        return {
            "project": self.project.as_json(), "invested_minor": self.invested_minor,
            "income_minor": self.income_minor, "share": share_json(self.share),
            "stages": [{"stage": h.stage.as_json(), "invested_minor": h.invested_minor,
                        "refunded_minor": h.refunded_minor, "share": share_json(h.share)} for h in self.stages],
            "investments": [i.as_json() for i in self.investments],
        }


async def portfolio(platform: Any, user_id: UUID) -> list[ProjectHolding]:
    projects = platform.service(ProjectService)
    investments = await platform.service(InvestmentService).investments(user_id=user_id)
    income = await platform.service(IncomeService).income_of(user_id)
    holdings: dict[UUID, ProjectHolding] = {}
    for project_id in dict.fromkeys([i.project_id for i in investments] + list(income)):
        project = await projects.project(project_id)
        holding = ProjectHolding(project, income_minor=income.get(project_id, 0))
        stages = await projects.stages(project_id)
        mine = [i for i in investments if i.project_id == project_id]
        holding.investments = mine
        raised_mine = raised_all = 0
        for stage in stages:
            invested = sum(i.amount_minor for i in mine if i.stage_id == stage.id and i.status == "active")
            refunded = sum(i.amount_minor for i in mine if i.stage_id == stage.id and i.status == "refunded")
            if not invested and not refunded:
                if stage.status in RAISED:
                    raised_all += stage.collected_minor - stage.refunded_minor
                continue
            held = stage.collected_minor - stage.refunded_minor
            holding.stages.append(StageHolding(stage, invested, refunded, share(invested, held)))
            if stage.status in RAISED:
                raised_mine += invested
                raised_all += held
        holding.share = share(raised_mine, raised_all)
        holdings[project_id] = holding
    return list(holdings.values())


def totals(holdings: list[ProjectHolding]) -> dict[str, int]:
    return {"invested_minor": sum(h.invested_minor for h in holdings),
            "income_minor": sum(h.income_minor for h in holdings),
            "collecting_minor": sum(s.invested_minor for h in holdings for s in h.stages
                                    if s.stage.status == StageStatus.COLLECTING)}
