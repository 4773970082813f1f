"""Telling people: the customer when a decision is made, reviewers when a submission waits for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.access.roles import Roles
from core.notifications.service import NotificationService
from plugins.kyc.records import State, Submission

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.kyc.settings import KycSettings

REVIEW_PERMISSION = "kyc.review"


async def state_changed(platform: Platform, settings: KycSettings, submission: Submission) -> None:
    """Queue the messages of a state change (they leave after the change commits)."""
    notifications = platform.service(NotificationService)
    if submission.state is State.VERIFIED:
        await notifications.notify(submission.user_id, "kyc.verified", {})
    elif submission.state is State.REJECTED:
        await notifications.notify(submission.user_id, "kyc.rejected", {"reason": submission.decision_reason or ""})
    elif submission.state is State.REVIEW and settings.notify_reviewers:
        for reviewer in await platform.service(Roles).holders(REVIEW_PERMISSION):
            if reviewer != submission.user_id:
                await notifications.notify(reviewer, "kyc.review_needed", {"submission_id": str(submission.id)},
                                           via=())
