"""Scheduled work of staged projects."""

from __future__ import annotations

from typing import Any


async def close_due_stages(platform: Any) -> int:
    """Close every stage whose collection window has ended: funded at or over target, failed below it."""
    from core.projects.service import ProjectService

    return len(await platform.service(ProjectService).close_due_stages())
