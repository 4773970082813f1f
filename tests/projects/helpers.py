"""Building projects and stages for tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.projects import ProjectService

# The smallest valid PDF and PNG heads: the file store recognises documents by their first bytes.
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def published_project(platform: Any, *, kind: str = "crowdinvesting", currency: str = "RUB",
                            title: str = "Houses for rent") -> Any:
    projects = platform.service(ProjectService)
    project = await projects.create_project(slug=f"p-{uuid.uuid4().hex[:10]}", title=title, kind=kind,
                                            currency=currency, summary="Build and rent out")
    return await projects.update_project(project.id, visibility="published")


async def open_stage(platform: Any, project: Any, *, target: int, cap: int | None = None,
                     lines: list[tuple[str, int, bool]] | None = None, days: int = 30, title: str = "Land") -> Any:
    projects = platform.service(ProjectService)
    stage = await projects.add_stage(project.id, title=title, target_minor=target, cap_minor=cap)
    for line_title, planned, required in lines or []:
        await projects.add_budget_line(stage.id, title=line_title, planned_minor=planned, required=required)
    now = dt.datetime.now(dt.UTC)
    return await projects.open_collection(stage.id, closes_at=now + dt.timedelta(days=days))
