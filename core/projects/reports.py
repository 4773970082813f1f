"""Planned against actual: every stage and budget line of a project, in minor units.

Actual is what finance approved; pending is what waits for approval. The variance is
planned minus actual (negative: overspent). Collected, released and in-escrow come from the
stage's counters, which move in the same transactions as the ledger transfers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from core.projects.models import BudgetLine, Project, Stage
from core.projects.service import ProjectService


@dataclass(frozen=True)
class LineReport:
    line: BudgetLine
    actual_minor: int
    pending_minor: int
    entries: int

    @property
    def variance_minor(self) -> int:
        return self.line.planned_minor - self.actual_minor

    def as_json(self) -> dict[str, Any]:
        return {**self.line.as_json(), "actual_minor": self.actual_minor, "pending_minor": self.pending_minor,
                "variance_minor": self.variance_minor, "entries": self.entries}


@dataclass(frozen=True)
class StageReport:
    stage: Stage
    lines: list[LineReport] = field(default_factory=list)

    @property
    def planned_minor(self) -> int:
        return sum(line.line.planned_minor for line in self.lines)

    @property
    def required_minor(self) -> int:
        return sum(line.line.planned_minor for line in self.lines if line.line.required)

    @property
    def actual_minor(self) -> int:
        return sum(line.actual_minor for line in self.lines)

    @property
    def pending_minor(self) -> int:
        return sum(line.pending_minor for line in self.lines)

    @property
    def variance_minor(self) -> int:
        return self.planned_minor - self.actual_minor

    def as_json(self) -> dict[str, Any]:
        return {"stage": self.stage.as_json(), "planned_minor": self.planned_minor,
                "required_minor": self.required_minor, "actual_minor": self.actual_minor,
                "pending_minor": self.pending_minor, "variance_minor": self.variance_minor,
                "lines": [line.as_json() for line in self.lines]}


@dataclass(frozen=True)
class ProjectReport:
    project: Project
    stages: list[StageReport]

    @property
    def planned_minor(self) -> int:
        return sum(s.planned_minor for s in self.stages)

    @property
    def actual_minor(self) -> int:
        return sum(s.actual_minor for s in self.stages)

    @property
    def collected_minor(self) -> int:
        return sum(s.stage.collected_minor - s.stage.refunded_minor for s in self.stages)

    def as_json(self) -> dict[str, Any]:
        return {"project": self.project.as_json(), "currency": self.project.currency,
                "planned_minor": self.planned_minor, "actual_minor": self.actual_minor,
                "collected_minor": self.collected_minor, "stages": [s.as_json() for s in self.stages]}


async def planned_vs_actual(service: ProjectService, project_id: UUID) -> ProjectReport:
    project = await service.project(project_id)
    stages = await service.stages(project.id)
    rows = await service.db.fetch(
        """SELECT l.*,
                  coalesce(sum(e.amount_minor) FILTER (WHERE e.status = 'approved'), 0)::bigint AS actual_minor,
                  coalesce(sum(e.amount_minor) FILTER (WHERE e.status = 'submitted'), 0)::bigint AS pending_minor,
                  count(e.id) FILTER (WHERE e.status <> 'rejected') AS entries
           FROM projects_budget_lines l
           JOIN projects_stages s ON s.id = l.stage_id
           LEFT JOIN projects_spending e ON e.budget_line_id = l.id
           WHERE s.project_id = $1
           GROUP BY l.id ORDER BY l.position""", project.id)
    by_stage: dict[UUID, list[LineReport]] = {}
    for row in rows:
        by_stage.setdefault(row["stage_id"], []).append(
            LineReport(BudgetLine.from_record(row), row["actual_minor"], row["pending_minor"], row["entries"]))
    return ProjectReport(project, [StageReport(stage, by_stage.get(stage.id, [])) for stage in stages])
