"""Background work: opening and closing meetings on time, and making protocols that are missing."""

from __future__ import annotations

import logging
from typing import Any

from core.access.context import acting_as
from core.projects.errors import Conflict
from plugins.meetings.protocol import ProtocolService
from plugins.meetings.service import MeetingService

log = logging.getLogger(__name__)


async def close_and_report(platform: Any, identity: Any, meeting_id: Any) -> Any:
    """Close a meeting, then make its protocol (which also announces the results).

    The close is committed first: if the protocol cannot be made now, ``meetings.run_due`` makes it
    on its next run, and the organizer is not shown an error for a meeting that did close.
    """
    meeting = await platform.service(MeetingService).close(identity, meeting_id)
    try:
        await platform.service(ProtocolService).ensure(meeting_id)
    except Exception:
        log.exception("the protocol of meeting %s could not be made; the task will retry", meeting_id)
    return meeting


async def run_due(platform: Any) -> dict[str, int]:
    """``meetings.run_due``: open meetings whose time came, close those whose voting time is over.

    Each meeting is handled on its own, so one failure (a protocol that cannot be rendered) does not
    hold up the others; what is left is picked up by the next run.
    """
    meetings = platform.service(MeetingService)
    protocols = platform.service(ProtocolService)
    done = {"opened": 0, "closed": 0, "protocols": 0}
    with acting_as("task:meetings.run_due"):
        to_open, to_close = await meetings.due()
        for meeting_id in to_open:
            try:
                await meetings.open(None, meeting_id)
                done["opened"] += 1
            except Conflict:
                pass  # someone opened it meanwhile
        for meeting_id in to_close:
            try:
                await meetings.close(None, meeting_id)
                done["closed"] += 1
            except Conflict:
                pass
        missing = await platform.db.fetch(
            """SELECT m.id FROM meetings_meetings m WHERE m.status IN ('closed', 'not_held')
               AND NOT EXISTS (SELECT 1 FROM meetings_protocols p WHERE p.meeting_id = m.id)""")
        for row in missing:
            try:
                await protocols.ensure(row["id"])
                done["protocols"] += 1
            except Exception:
                log.exception("the protocol of meeting %s could not be made; will retry", row["id"])
    return done
