"""What crowdinvesting does when a stage changes or a publication appears (core.projects' events)."""

from __future__ import annotations

from typing import Any

from core.jobs.runtime import Jobs
from core.projects import ProjectService


async def _is_ours(platform: Any, project_id: Any) -> Any:
    project = await platform.service(ProjectService).project(project_id)
    return project if project.kind == "crowdinvesting" else None


async def stage_changed(platform: Any, stage: Any, new_status: str) -> None:
    project = await _is_ours(platform, stage.project_id)
    if project is None:
        return
    jobs = platform.service(Jobs)
    if new_status == "failed":
        await jobs.kick("crowdinvesting.refund_stage", stage_id=str(stage.id))
    if new_status in ("funded", "failed", "completed"):
        await jobs.kick("crowdinvesting.notify_investors", project_id=str(project.id), kind=f"stage_{new_status}",
                        params={"project": project.title, "stage": stage.title, "position": stage.position})


async def published(platform: Any, publication: Any) -> None:
    project = await _is_ours(platform, publication.project_id)
    if project is None:
        return
    await platform.service(Jobs).kick(
        "crowdinvesting.notify_investors", project_id=str(project.id), kind="publication",
        params={"project": project.title, "title": publication.title, "kind": publication.kind,
                # Whole, with the site's address: the message may be read in a mail or an SMS.
                "url": f"{platform.core.web.base_url.rstrip('/')}/projects/{project.slug}/publications/{publication.id}"})
