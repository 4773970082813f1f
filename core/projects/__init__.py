"""Staged projects: a project's budget split into ordered stages, each collecting into its own escrow.

Product plugins use the service::

    from core.projects import ProjectService

    projects = platform.service(ProjectService)
    stage = await projects.collecting_stage(project.id)
    async with platform.db.transaction():
        await projects.record_contribution(stage.id, amount)        # the cap holds here
        escrow = await projects.escrow_account(stage)               # then move the money in
        await ledger.transfer(..., credit_account_id=escrow.id, ...)

See ``core/projects/README.md``.
"""

from core.projects.errors import Conflict, Invalid, NotFound
from core.projects.models import (
    Attachment,
    BudgetLine,
    Project,
    Publication,
    PublicationKind,
    SpendingEntry,
    Stage,
    StageStatus,
)
from core.projects.service import Contribution, ProjectService, Upload

__all__ = [
    "Attachment",
    "BudgetLine",
    "Conflict",
    "Contribution",
    "Invalid",
    "NotFound",
    "Project",
    "ProjectService",
    "Publication",
    "PublicationKind",
    "SpendingEntry",
    "Stage",
    "StageStatus",
    "Upload",
]
