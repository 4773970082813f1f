"""Tables of staged projects (created by the hand-written migration; keep the two in sync).

The service works with raw SQL for its guarded updates; these declarations let piccolo
queries, ``kopilka plugins`` and admin tools see the same tables.
"""

from piccolo.columns import UUID, BigInt, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.table import Table


class Project(Table, tablename="projects_projects"):
    id = UUID(primary_key=True)
    slug = Varchar(length=80, unique=True)
    title = Varchar(length=200)
    summary = Text()
    description = Text()
    currency = Varchar(length=3, default="RUB")
    #: The product plugin that runs the project's money (``crowdinvesting``), or empty.
    kind = Varchar(length=60)
    visibility = Varchar(length=20, default="draft")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Stage(Table, tablename="projects_stages"):
    id = UUID(primary_key=True)
    project_id = ForeignKey(references=Project)
    position = Integer()
    title = Varchar(length=200)
    description = Text()
    target_minor = BigInt()
    cap_minor = BigInt()
    opens_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    status = Varchar(length=20, default="draft")
    collected_minor = BigInt(default=0)
    contributions = Integer(default=0)
    refunded_minor = BigInt(default=0)
    released_minor = BigInt(default=0)
    status_changed_at = Timestamptz()
    created_at = Timestamptz()


class StageEvent(Table, tablename="projects_stage_events"):
    id = BigSerial(primary_key=True)
    stage_id = ForeignKey(references=Stage)
    old_status = Varchar(length=20)
    new_status = Varchar(length=20)
    reason = Text()
    actor_id = UUID(null=True, default=None)
    at = Timestamptz()


class BudgetLine(Table, tablename="projects_budget_lines"):
    id = UUID(primary_key=True)
    stage_id = ForeignKey(references=Stage)
    position = Integer()
    title = Varchar(length=200)
    category = Varchar(length=20, default="task")
    planned_minor = BigInt()
    required = Boolean(default=True)


class Spending(Table, tablename="projects_spending"):
    id = UUID(primary_key=True)
    stage_id = ForeignKey(references=Stage)
    budget_line_id = ForeignKey(references=BudgetLine)
    amount_minor = BigInt()
    description = Text()
    payee = Varchar(length=200)
    spent_on = Date()
    status = Varchar(length=20, default="submitted")
    recorded_by = UUID(null=True, default=None)
    recorded_at = Timestamptz()
    decided_by = UUID(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text()
    release_transfer_id = UUID(null=True, default=None)


class Publication(Table, tablename="projects_publications"):
    id = UUID(primary_key=True)
    project_id = ForeignKey(references=Project)
    stage_id = ForeignKey(references=Stage, null=True)
    kind = Varchar(length=30)
    title = Varchar(length=200)
    body = Text()
    status = Varchar(length=20, default="draft")
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz()
    published_by = UUID(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)


class Attachment(Table, tablename="projects_attachments"):
    id = UUID(primary_key=True)
    spending_id = ForeignKey(references=Spending, null=True)
    publication_id = ForeignKey(references=Publication, null=True)
    file_key = Varchar(length=200, unique=True)
    filename = Varchar(length=200)
    content_type = Varchar(length=100)
    size_bytes = BigInt()
    sha256 = Varchar(length=64)
    uploaded_by = UUID(null=True, default=None)
    uploaded_at = Timestamptz()
