"""The scoring plugin's task: ask again about inquiries still waiting for their answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.scoring.service import ScoringService

if TYPE_CHECKING:
    from core.platform import Platform


async def poll(platform: Platform) -> int:
    """``scoring.poll``: fetch PENDING answers (Scorista), re-ask calls that never came back, give up late ones."""
    return await platform.service(ScoringService).poll_due()
