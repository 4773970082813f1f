"""Tasks of the core job system."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.platform import Platform


async def close_of_day(platform: Platform) -> None:
    """Close the current business date: run each close-of-day job once, then advance the date."""
    from core.jobs.runtime import Jobs

    await platform.service(Jobs).close_day()
