"""What every part of the meetings plugin shares: the clock, loading rows, and who may see what.

Organizers hold ``meetings.organize`` and run the cases they are the arbitration manager of;
``meetings.supervise`` sees and runs every case. Anyone else reaches a meeting only through a
participation of their own, and is told "not found" otherwise, so ids of other people's meetings
reveal nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from uuid import UUID

from core.access import Identity
from core.projects.errors import NotFound
from core.web.i18n import gettext as _

ORGANIZE = "meetings.organize"
SUPERVISE = "meetings.supervise"


class Clock:
    """Now, in UTC; tests replace ``now`` to walk a meeting through its calendar."""

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now

    def now(self) -> dt.datetime:
        return self._now() if self._now else dt.datetime.now(dt.UTC)

    def set(self, now: Callable[[], dt.datetime] | dt.datetime | None) -> None:
        self._now = (lambda: now) if isinstance(now, dt.datetime) else now


def is_supervisor(identity: Identity) -> bool:
    return identity.can(SUPERVISE)


def manages(identity: Identity, case: Any) -> bool:
    """Whether ``identity`` runs this case (its organizer, or a supervisor)."""
    return identity.is_authenticated and (
        (identity.can(ORGANIZE) and case["organizer_id"] == identity.user_id) or is_supervisor(identity)
    )


async def fetch_case(db: Any, case_id: UUID) -> Any:
    row = await db.fetchrow("SELECT * FROM meetings_cases WHERE id = $1", case_id)
    if row is None:
        raise NotFound(_("no case %(id)s", id=case_id))
    return row


async def fetch_meeting(db: Any, meeting_id: UUID, *, lock: bool = False) -> Any:
    row = await db.fetchrow(
        "SELECT * FROM meetings_meetings WHERE id = $1" + (" FOR UPDATE" if lock else ""), meeting_id
    )
    if row is None:
        raise NotFound(_("no meeting %(id)s", id=meeting_id))
    return row


async def managed_case(db: Any, identity: Identity, case_id: UUID) -> Any:
    case = await fetch_case(db, case_id)
    if not manages(identity, case):
        raise NotFound(_("no case %(id)s", id=case_id))
    return case


async def managed_meeting(db: Any, identity: Identity, meeting_id: UUID, *, lock: bool = False) -> tuple[Any, Any]:
    """The meeting and its case, if ``identity`` runs the case; "not found" otherwise."""
    meeting = await fetch_meeting(db, meeting_id, lock=lock)
    case = await fetch_case(db, meeting["case_id"])
    if not manages(identity, case):
        raise NotFound(_("no meeting %(id)s", id=meeting_id))
    return meeting, case


def actor_of(identity: Identity | None) -> str:
    return identity.actor if identity is not None else "system"


def as_uuid(value: Any, field: str) -> UUID:
    from core.projects.forms import uuid_of

    return uuid_of(value, field)
