"""Projects, stages and what hangs off them, and the stage status machine.

A stage moves ``draft → collecting → funded → in_progress → completed``, or, when the
collection window ends below target, ``collecting → failed → refunded``. Nothing else:
:func:`check_transition` refuses every other move, and the service records each move in
``projects_stage_events`` and fires ``on_stage_changed`` after commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from enum import StrEnum
from fractions import Fraction
from typing import Any
from uuid import UUID

from core.projects.errors import Conflict


class StageStatus(StrEnum):
    DRAFT = "draft"
    COLLECTING = "collecting"
    FUNDED = "funded"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"


TRANSITIONS: dict[StageStatus, frozenset[StageStatus]] = {
    StageStatus.DRAFT: frozenset({StageStatus.COLLECTING}),
    StageStatus.COLLECTING: frozenset({StageStatus.FUNDED, StageStatus.FAILED}),
    StageStatus.FUNDED: frozenset({StageStatus.IN_PROGRESS}),
    StageStatus.IN_PROGRESS: frozenset({StageStatus.COMPLETED}),
    StageStatus.COMPLETED: frozenset(),
    StageStatus.FAILED: frozenset({StageStatus.REFUNDED}),
    StageStatus.REFUNDED: frozenset(),
}

#: Stages whose collected money stayed with the project: what investors' shares are made of.
RAISED = frozenset({StageStatus.FUNDED, StageStatus.IN_PROGRESS, StageStatus.COMPLETED})
#: Stages where approved spending may release money from escrow.
SPENDING = frozenset({StageStatus.FUNDED, StageStatus.IN_PROGRESS})

STATUS_LABELS = {
    StageStatus.DRAFT: "Draft",
    StageStatus.COLLECTING: "Collecting",
    StageStatus.FUNDED: "Funded",
    StageStatus.IN_PROGRESS: "In progress",
    StageStatus.COMPLETED: "Completed",
    StageStatus.FAILED: "Failed",
    StageStatus.REFUNDED: "Refunded",
}


def check_transition(old: StageStatus | str, new: StageStatus | str) -> None:
    old, new = StageStatus(old), StageStatus(new)
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(TRANSITIONS[old])) or "none (final)"
        raise Conflict(f"a stage that is {old} cannot become {new} (allowed next: {allowed})")


class PublicationKind(StrEnum):
    NEWS = "news"
    STAGE_REPORT = "stage_report"
    ACCOUNTING_REPORT = "accounting_report"
    DOCUMENT = "document"


PUBLICATION_LABELS = {
    PublicationKind.NEWS: "News",
    PublicationKind.STAGE_REPORT: "Stage report",
    PublicationKind.ACCOUNTING_REPORT: "Accounting report",
    PublicationKind.DOCUMENT: "Document",
}

BUDGET_CATEGORIES = ("task", "structure", "material", "other")


def _from_record(cls: type, record: Any) -> Any:
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in dict(record).items() if k in names})


@dataclass(frozen=True)
class Project:
    id: UUID
    slug: str
    title: str
    summary: str
    description: str
    currency: str
    kind: str
    visibility: str
    created_at: dt.datetime
    created_by: UUID | None = None

    @classmethod
    def from_record(cls, record: Any) -> Project:
        return _from_record(cls, record)

    @property
    def owner(self) -> str:
        """The project's owner string in the ledger."""
        return f"project:{self.id}"

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "slug": self.slug, "title": self.title, "summary": self.summary,
                "description": self.description, "currency": self.currency, "kind": self.kind,
                "visibility": self.visibility}


@dataclass(frozen=True)
class Stage:
    id: UUID
    project_id: UUID
    position: int
    title: str
    description: str
    target_minor: int
    cap_minor: int
    status: StageStatus
    collected_minor: int
    contributions: int
    refunded_minor: int
    released_minor: int
    status_changed_at: dt.datetime
    opens_at: dt.datetime | None = None
    closes_at: dt.datetime | None = None
    currency: str = "RUB"

    @classmethod
    def from_record(cls, record: Any) -> Stage:
        stage = _from_record(cls, record)
        return stage if isinstance(stage.status, StageStatus) else _replace(stage, status=StageStatus(stage.status))

    @property
    def owner(self) -> str:
        """The stage's owner string in the ledger (its escrow account)."""
        return f"stage:{self.id}"

    @property
    def in_escrow_minor(self) -> int:
        return self.collected_minor - self.refunded_minor - self.released_minor

    @property
    def remaining_minor(self) -> int:
        """How much more the stage may take before its cap."""
        return self.cap_minor - self.collected_minor

    @property
    def progress(self) -> Fraction:
        """Collected over target, exactly (1 and more: the target is reached)."""
        return Fraction(self.collected_minor, self.target_minor)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "project_id": str(self.project_id), "position": self.position,
            "title": self.title, "description": self.description, "status": str(self.status),
            "currency": self.currency, "target_minor": self.target_minor, "cap_minor": self.cap_minor,
            "collected_minor": self.collected_minor, "contributions": self.contributions,
            "refunded_minor": self.refunded_minor, "released_minor": self.released_minor,
            "in_escrow_minor": self.in_escrow_minor,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
        }


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


@dataclass(frozen=True)
class BudgetLine:
    id: UUID
    stage_id: UUID
    position: int
    title: str
    category: str
    planned_minor: int
    required: bool

    @classmethod
    def from_record(cls, record: Any) -> BudgetLine:
        return _from_record(cls, record)

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "stage_id": str(self.stage_id), "position": self.position, "title": self.title,
                "category": self.category, "planned_minor": self.planned_minor, "required": self.required}


@dataclass(frozen=True)
class Attachment:
    id: UUID
    file_key: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: dt.datetime
    spending_id: UUID | None = None
    publication_id: UUID | None = None

    @classmethod
    def from_record(cls, record: Any) -> Attachment:
        return _from_record(cls, record)

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "filename": self.filename, "content_type": self.content_type,
                "size_bytes": self.size_bytes, "sha256": self.sha256, "url": f"/projects/attachments/{self.id}"}


@dataclass(frozen=True)
class SpendingEntry:
    id: UUID
    stage_id: UUID
    budget_line_id: UUID
    amount_minor: int
    description: str
    payee: str
    spent_on: dt.date
    status: str
    recorded_at: dt.datetime
    recorded_by: UUID | None = None
    decided_by: UUID | None = None
    decided_at: dt.datetime | None = None
    decision_note: str = ""
    release_transfer_id: UUID | None = None
    attachments: tuple[Attachment, ...] = field(default=())

    @classmethod
    def from_record(cls, record: Any, attachments: tuple[Attachment, ...] = ()) -> SpendingEntry:
        return _replace(_from_record(cls, record), attachments=attachments)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "stage_id": str(self.stage_id), "budget_line_id": str(self.budget_line_id),
            "amount_minor": self.amount_minor, "description": self.description, "payee": self.payee,
            "spent_on": self.spent_on.isoformat(), "status": self.status,
            "recorded_by": str(self.recorded_by) if self.recorded_by else None,
            "decided_by": str(self.decided_by) if self.decided_by else None,
            "decision_note": self.decision_note,
            "release_transfer_id": str(self.release_transfer_id) if self.release_transfer_id else None,
            "attachments": [a.as_json() for a in self.attachments],
        }


@dataclass(frozen=True)
class Publication:
    id: UUID
    project_id: UUID
    kind: str
    title: str
    body: str
    status: str
    created_at: dt.datetime
    stage_id: UUID | None = None
    published_at: dt.datetime | None = None
    attachments: tuple[Attachment, ...] = field(default=())

    @classmethod
    def from_record(cls, record: Any, attachments: tuple[Attachment, ...] = ()) -> Publication:
        return _replace(_from_record(cls, record), attachments=attachments)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "project_id": str(self.project_id),
            "stage_id": str(self.stage_id) if self.stage_id else None, "kind": self.kind, "title": self.title,
            "body": self.body, "status": self.status,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "attachments": [a.as_json() for a in self.attachments],
        }
