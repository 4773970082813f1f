"""The staged-projects service: ``platform.service(ProjectService)``.

Projects are split into ordered stages. A product plugin (crowdinvesting) brings money in
with :meth:`ProjectService.record_contribution` inside its own transaction, next to its
ledger transfer into the stage's escrow; the guarded update here is what keeps a stage under
its cap however many contributions race for the last rouble. Finance approves spending, which
releases money from escrow to the project's implementation account. Stage moves and
publications fire ``on_stage_changed`` / ``on_publication`` after commit.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.files import FileError, Files
from core.projects.errors import Conflict, Invalid, NotFound
from core.projects.escrow import StageAccounts
from core.projects.models import (
    BUDGET_CATEGORIES,
    SPENDING,
    STATUS_LABELS,
    Attachment,
    BudgetLine,
    Project,
    Publication,
    PublicationKind,
    SpendingEntry,
    Stage,
    StageStatus,
    check_transition,
)
from core.projects.settings import ProjectsSettings
from core.web import i18n
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.platform import Platform

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
STAGE_SELECT = "SELECT s.*, p.currency FROM projects_stages s JOIN projects_projects p ON p.id = s.project_id"


@dataclass(frozen=True)
class Upload:
    """A document handed to the service: its bytes and the name it came with."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class Contribution:
    """What :meth:`ProjectService.record_contribution` did to the stage."""

    stage: Stage
    funded_now: bool


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fits(value: str | None, field: str, limit: int = 200) -> None:
    """A one-line text must fit its column: refused here, naming the field, not by the database (a 500)."""
    if value is not None and len(value.strip()) > limit:
        raise Invalid(f"at most {limit} characters", field=field)


class ProjectService:
    def __init__(self, platform: Platform, settings: ProjectsSettings | None = None) -> None:
        self.platform = platform
        self.settings = settings or ProjectsSettings()
        self.accounts = StageAccounts(platform)

    @property
    def db(self):
        return self.platform.db

    @property
    def files(self) -> Files:
        return self.platform.service(Files)

    async def _audit(self, action: str, actor: UUID | None, target: str, **details: Any) -> None:
        """An audit-log entry in the caller's transaction (who did it comes from the request when known)."""
        from core.access.audit import AuditLog

        await self.platform.service(AuditLog).record(
            action=f"projects.{action}", target=target, actor=actor,
            details={k: str(v) if v is not None else None for k, v in details.items()})

    # -- projects ---------------------------------------------------------------------------

    async def create_project(self, *, slug: str, title: str, summary: str = "", description: str = "",
                             currency: str | None = None, kind: str = "", actor: UUID | None = None) -> Project:
        slug = slug.strip().lower()
        if not SLUG.match(slug):
            raise Invalid("use lowercase letters, digits and dashes (at most 80)", field="slug")
        if not title.strip():
            raise Invalid("a project needs a title", field="title")
        fits(title, "title")
        fits(kind, "kind", 60)
        currency = (currency or self.platform.core.platform.currency).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("a three-letter ISO 4217 code", field="currency")
        async with self.db.transaction() as conn:
            if await conn.fetchval("SELECT 1 FROM projects_projects WHERE slug = $1", slug):
                raise Conflict(f"a project with the address {slug!r} already exists")
            row = await conn.fetchrow(
                """INSERT INTO projects_projects (id, slug, title, summary, description, currency, kind, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
                uuid.uuid4(), slug, title.strip(), summary.strip(), description.strip(), currency, kind, actor,
            )
            await self._audit("project_created", actor, f"project:{row['id']}", slug=slug, kind=kind)
        return Project.from_record(row)

    async def update_project(self, project_id: UUID, *, title: str | None = None, summary: str | None = None,
                             description: str | None = None, visibility: str | None = None) -> Project:
        if visibility is not None and visibility not in ("draft", "published", "archived"):
            raise Invalid("draft, published or archived", field="visibility")
        if title is not None and not title.strip():
            raise Invalid("a project needs a title", field="title")
        fits(title, "title")
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """UPDATE projects_projects SET title = coalesce($2, title), summary = coalesce($3, summary),
                          description = coalesce($4, description), visibility = coalesce($5, visibility),
                          updated_at = now()
                   WHERE id = $1 RETURNING *""",
                project_id, title.strip() if title else None, summary, description, visibility,
            )
        if row is None:
            raise NotFound(f"no project {project_id}")
        return Project.from_record(row)

    async def project(self, key: UUID | str) -> Project:
        """A project by id or by its address (slug)."""
        try:
            pid = key if isinstance(key, UUID) else UUID(str(key))
            row = await self.db.fetchrow("SELECT * FROM projects_projects WHERE id = $1", pid)
        except ValueError:
            # Only something shaped like an address is looked up (a NUL in a path made the query fail).
            row = await self.db.fetchrow("SELECT * FROM projects_projects WHERE slug = $1", str(key)) \
                if SLUG.match(str(key)) else None
        if row is None:
            raise NotFound(f"no project {key}")
        return Project.from_record(row)

    async def projects(self, *, visibility: Sequence[str] | None = None, kind: str | None = None) -> list[Project]:
        rows = await self.db.fetch(
            """SELECT * FROM projects_projects
               WHERE ($1::text[] IS NULL OR visibility = ANY($1)) AND ($2::text IS NULL OR kind = $2)
               ORDER BY created_at DESC, slug""",
            list(visibility) if visibility is not None else None, kind,
        )
        return [Project.from_record(r) for r in rows]

    # -- stages -----------------------------------------------------------------------------

    async def add_stage(self, project_id: UUID, *, title: str, target_minor: int, cap_minor: int | None = None,
                        description: str = "", opens_at: dt.datetime | None = None,
                        closes_at: dt.datetime | None = None) -> Stage:
        cap_minor = target_minor if cap_minor is None else cap_minor
        self._check_amounts(target_minor, cap_minor)
        self._check_window(opens_at, closes_at)
        if not title.strip():
            raise Invalid("a stage needs a title", field="title")
        fits(title, "title")
        async with self.db.transaction() as conn:
            # Lock the project so two stages added at once get distinct positions.
            if await conn.fetchval("SELECT 1 FROM projects_projects WHERE id = $1 FOR UPDATE", project_id) is None:
                raise NotFound(f"no project {project_id}")
            position = await conn.fetchval(
                "SELECT coalesce(max(position), 0) + 1 FROM projects_stages WHERE project_id = $1", project_id)
            stage_id = uuid.uuid4()
            await conn.execute(
                """INSERT INTO projects_stages (id, project_id, position, title, description, target_minor, cap_minor,
                                                opens_at, closes_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                stage_id, project_id, position, title.strip(), description.strip(), target_minor, cap_minor,
                opens_at, closes_at,
            )
            return await self.stage(stage_id)

    async def update_stage(self, stage_id: UUID, *, title: str | None = None, description: str | None = None,
                           target_minor: int | None = None, cap_minor: int | None = None,
                           opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = None) -> Stage:
        """Change a stage's plan; only while it is a draft (investors rely on what they were shown)."""
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            if stage.status != StageStatus.DRAFT:
                raise Conflict(f"the stage is {stage.status}; only a draft stage can be changed")
            target = stage.target_minor if target_minor is None else target_minor
            cap = stage.cap_minor if cap_minor is None else cap_minor
            if target_minor is not None and cap_minor is None and cap < target:
                cap = target
            self._check_amounts(target, cap)
            self._check_window(opens_at or stage.opens_at, closes_at or stage.closes_at)
            if title is not None and not title.strip():
                raise Invalid("a stage needs a title", field="title")
            fits(title, "title")
            await conn.execute(
                """UPDATE projects_stages SET title = coalesce($2, title), description = coalesce($3, description),
                          target_minor = $4, cap_minor = $5, opens_at = coalesce($6, opens_at),
                          closes_at = coalesce($7, closes_at)
                   WHERE id = $1""",
                stage_id, title.strip() if title else None, description, target, cap, opens_at, closes_at,
            )
            return await self.stage(stage_id)

    @staticmethod
    def _check_amounts(target_minor: int, cap_minor: int) -> None:
        if not isinstance(target_minor, int) or target_minor <= 0:
            raise Invalid("the target must be a positive amount", field="target")
        if not isinstance(cap_minor, int) or cap_minor < target_minor:
            raise Invalid("the cap must be at least the target", field="cap")

    @staticmethod
    def _check_window(opens_at: dt.datetime | None, closes_at: dt.datetime | None) -> None:
        for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
            if value is not None and value.tzinfo is None:
                raise Invalid("give a time with its time zone", field=name)
        if opens_at and closes_at and closes_at <= opens_at:
            raise Invalid("the collection must close after it opens", field="closes_at")

    async def stage(self, stage_id: UUID) -> Stage:
        row = await self.db.fetchrow(f"{STAGE_SELECT} WHERE s.id = $1", stage_id)
        if row is None:
            raise NotFound(f"no stage {stage_id}")
        return Stage.from_record(row)

    async def stages(self, project_id: UUID) -> list[Stage]:
        rows = await self.db.fetch(f"{STAGE_SELECT} WHERE s.project_id = $1 ORDER BY s.position", project_id)
        return [Stage.from_record(r) for r in rows]

    async def collecting_stage(self, project_id: UUID) -> Stage | None:
        rows = await self.db.fetch(
            f"{STAGE_SELECT} WHERE s.project_id = $1 AND s.status = 'collecting' ORDER BY s.position LIMIT 1",
            project_id)
        return Stage.from_record(rows[0]) if rows else None

    async def _lock_stage(self, conn: Any, stage_id: UUID) -> Stage:
        row = await conn.fetchrow(f"{STAGE_SELECT} WHERE s.id = $1 FOR UPDATE OF s", stage_id)
        if row is None:
            raise NotFound(f"no stage {stage_id}")
        return Stage.from_record(row)

    async def history(self, stage_id: UUID) -> list[dict[str, Any]]:
        rows = await self.db.fetch(
            "SELECT old_status, new_status, reason, actor_id, at FROM projects_stage_events WHERE stage_id = $1 "
            "ORDER BY id", stage_id)
        return [dict(r) for r in rows]

    async def _move(self, conn: Any, stage: Stage, new: StageStatus, *, actor: UUID | None, reason: str) -> Stage:
        """Move a locked stage to ``new``; record it; fire ``on_stage_changed`` after commit."""
        check_transition(stage.status, new)
        row = await conn.fetchrow(
            "UPDATE projects_stages SET status = $2, status_changed_at = now() WHERE id = $1 AND status = $3 "
            "RETURNING *", stage.id, str(new), str(stage.status))
        if row is None:
            raise Conflict(f"stage {stage.id} changed while it was being moved; try again")
        await conn.execute(
            "INSERT INTO projects_stage_events (stage_id, old_status, new_status, reason, actor_id) "
            "VALUES ($1, $2, $3, $4, $5)", stage.id, str(stage.status), str(new), reason, actor)
        if actor is not None:  # moves made by people; the platform's own (cap reached, window over) are events only
            await self._audit("stage_moved", actor, f"stage:{stage.id}", old=str(stage.status), new=str(new),
                              reason=reason)
        moved = Stage.from_record({**dict(row), "currency": stage.currency})
        old = str(stage.status)

        async def emit() -> None:
            await self.platform.plugins.emit("on_stage_changed", platform=self.platform, stage=moved,
                                             old_status=old, new_status=str(new))

        self.db.after_commit(emit)
        return moved

    async def open_collection(self, stage_id: UUID, *, actor: UUID | None = None,
                              opens_at: dt.datetime | None = None, closes_at: dt.datetime | None = None) -> Stage:
        """Start collecting money for a draft stage; opens its escrow account in the ledger."""
        now = utcnow()
        self._check_window(opens_at, closes_at)
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            check_transition(stage.status, StageStatus.COLLECTING)
            project = await self.project(stage.project_id)
            if project.visibility != "published":
                raise Conflict("publish the project before opening a stage: investors could not see it")
            await self._check_previous_stage(conn, stage)
            await self._check_budget_fits(conn, stage)
            opens = opens_at or stage.opens_at or now
            closes = closes_at or stage.closes_at or (opens + dt.timedelta(days=self.settings.default_collection_days))
            if closes <= max(now, opens):
                raise Invalid("the collection window must end in the future, after it opens", field="closes_at")
            await conn.execute("UPDATE projects_stages SET opens_at = $2, closes_at = $3 WHERE id = $1",
                               stage.id, opens, closes)
            await self.accounts.escrow(stage)
            return await self._move(conn, stage, StageStatus.COLLECTING, actor=actor, reason="collection opened")

    async def _check_previous_stage(self, conn: Any, stage: Stage) -> None:
        rows = await conn.fetch(
            "SELECT position, status FROM projects_stages WHERE project_id = $1 AND id <> $2 ORDER BY position",
            stage.project_id, stage.id)
        if any(r["status"] == StageStatus.COLLECTING for r in rows):
            raise Conflict("another stage of this project is collecting; one stage collects at a time")
        earlier = [r for r in rows if r["position"] < stage.position]
        if not earlier or self.settings.next_stage_opens_after == "any":
            return
        previous = earlier[-1]["status"]
        needed = {"completed": {StageStatus.COMPLETED},
                  "funded": {StageStatus.FUNDED, StageStatus.IN_PROGRESS, StageStatus.COMPLETED}}
        if previous not in needed[self.settings.next_stage_opens_after]:
            raise Conflict(f"stage {earlier[-1]['position']} is {previous}; it must be "
                           f"{self.settings.next_stage_opens_after} before this stage opens")

    async def _check_budget_fits(self, conn: Any, stage: Stage) -> None:
        """The target covers the required lines and the cap all of them (Goteo's minimum and optimum)."""
        required, everything = await conn.fetchrow(
            "SELECT coalesce(sum(planned_minor) FILTER (WHERE required), 0)::bigint, coalesce(sum(planned_minor), 0)::bigint "
            "FROM projects_budget_lines WHERE stage_id = $1", stage.id)
        if required > stage.target_minor:
            raise Invalid(f"the target {stage.target_minor} is below the required budget lines ({required})",
                          field="target")
        if everything > stage.cap_minor:
            raise Invalid(f"the cap {stage.cap_minor} is below the whole budget ({everything})", field="cap")

    async def close_collection(self, stage_id: UUID, *, actor: UUID | None = None, reason: str = "") -> Stage:
        """End collection now: funded if the target was reached, failed otherwise."""
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            if stage.status != StageStatus.COLLECTING:
                raise Conflict(f"the stage is {stage.status}, not collecting")
            if stage.collected_minor >= stage.target_minor:
                return await self._move(conn, stage, StageStatus.FUNDED, actor=actor,
                                        reason=reason or "collection closed with the target reached")
            return await self._move(conn, stage, StageStatus.FAILED, actor=actor,
                                    reason=reason or "collection closed below the target")

    async def close_due_stages(self, now: dt.datetime | None = None) -> list[Stage]:
        """Close every collecting stage whose window has ended (the scheduled task)."""
        now = now or utcnow()
        ids = await self.db.fetch(
            "SELECT id FROM projects_stages WHERE status = 'collecting' AND closes_at <= $1 ORDER BY closes_at", now)
        closed = []
        for row in ids:
            try:
                closed.append(await self.close_collection(row["id"], reason="collection window ended"))
            except Conflict:
                continue  # closed by someone else meanwhile
        return closed

    async def start_implementation(self, stage_id: UUID, *, actor: UUID | None = None) -> Stage:
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            return await self._move(conn, stage, StageStatus.IN_PROGRESS, actor=actor, reason="implementation started")

    async def complete_stage(self, stage_id: UUID, *, actor: UUID | None = None) -> Stage:
        """Declare a stage done; not while spending entries still wait for finance."""
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            waiting = await conn.fetchval(
                "SELECT count(*) FROM projects_spending WHERE stage_id = $1 AND status = 'submitted'", stage_id)
            if waiting:
                raise Conflict(f"{waiting} spending entries of this stage still wait for approval")
            return await self._move(conn, stage, StageStatus.COMPLETED, actor=actor, reason="stage completed")

    # -- money in and back out (called by product plugins inside their transaction) -------------

    async def escrow_account(self, stage: Stage) -> Any:
        """The stage's escrow account in the ledger (contributions are transfers into it)."""
        return await self.accounts.escrow(stage)

    async def lock_stages(self, stage_ids: Sequence[UUID]) -> dict[UUID, Stage]:
        """Lock stages (in id order, as every writer does) for a batch of contributions; inside a transaction."""
        if not self.db.in_transaction:
            raise RuntimeError("lock_stages must run inside the transaction that moves the money")
        rows = await self.db.fetch(f"{STAGE_SELECT} WHERE s.id = ANY($1::uuid[]) ORDER BY s.id FOR UPDATE OF s",
                                   sorted(set(stage_ids)))
        return {r["id"]: Stage.from_record(r) for r in rows}

    @staticmethod
    def refusal(stage: Stage, amount_minor: int, now: dt.datetime) -> Conflict | None:
        """Why ``stage`` cannot take ``amount_minor`` now, or None when it can."""
        if stage.status != StageStatus.COLLECTING:
            return Conflict(_("stage %(position)s is not collecting money (%(status)s)", position=stage.position,
                              status=_(STATUS_LABELS[stage.status]).lower()))
        if stage.opens_at and now < stage.opens_at:
            return Conflict(_("collection for stage %(position)s opens at %(when)s", position=stage.position,
                              when=i18n.datetime(stage.opens_at, "short")))
        if stage.closes_at and now >= stage.closes_at:
            return Conflict(_("collection for stage %(position)s closed at %(when)s", position=stage.position,
                              when=i18n.datetime(stage.closes_at, "short")))
        if amount_minor > stage.remaining_minor:
            return Conflict(_("stage %(position)s can take only %(left)s more, not %(amount)s (its cap is %(cap)s)",
                              position=stage.position, left=i18n.money(stage.remaining_minor, stage.currency),
                              amount=i18n.money(amount_minor, stage.currency),
                              cap=i18n.money(stage.cap_minor, stage.currency)))
        return None

    async def record_contribution(self, stage_id: UUID, amount_minor: int, *, now: dt.datetime | None = None,
                                  count: int = 1) -> Contribution:
        """Count ``amount_minor`` into a collecting stage, or refuse; the stage row stays locked until commit.

        One guarded UPDATE checks the status, the window and the cap and adds the amount, so
        concurrent contributions can never take a stage over its cap. When the cap is reached
        the stage is funded in the same transaction. Call it inside the transaction that makes
        the ledger transfer into :meth:`escrow_account`. ``count`` is how many contributions
        the amount sums (a product plugin's batch).
        """
        if amount_minor <= 0:
            raise Invalid("the amount must be positive", field="amount")
        if not self.db.in_transaction:
            raise RuntimeError("record_contribution must run inside the transaction that moves the money")
        now = now or utcnow()
        async with self.db.connection() as conn:  # the caller's transaction; no savepoint on the hot path
            row = await conn.fetchrow(
                """WITH moved AS (
                       UPDATE projects_stages SET collected_minor = collected_minor + $2,
                                                  contributions = contributions + $4
                       WHERE id = $1 AND status = 'collecting' AND (opens_at IS NULL OR opens_at <= $3)
                         AND (closes_at IS NULL OR $3 < closes_at) AND collected_minor + $2 <= cap_minor
                       RETURNING *)
                    SELECT moved.*, p.currency FROM moved JOIN projects_projects p ON p.id = moved.project_id""",
                stage_id, amount_minor, now, count)
            if row is None:
                raise await self._why_refused(stage_id, amount_minor, now)
            stage = Stage.from_record(row)
            if stage.collected_minor == stage.cap_minor:
                stage = await self._move(conn, stage, StageStatus.FUNDED, actor=None, reason="cap reached")
                return Contribution(stage, True)
            return Contribution(stage, False)

    async def _why_refused(self, stage_id: UUID, amount_minor: int, now: dt.datetime) -> Exception:
        return self.refusal(await self.stage(stage_id), amount_minor, now) or Conflict(
            f"stage {stage_id} refused {amount_minor}")

    async def record_refund(self, stage_id: UUID, amount_minor: int) -> Stage:
        """Count money returned from a failed stage's escrow; call it next to the refund transfer."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE projects_stages SET refunded_minor = refunded_minor + $2 WHERE id = $1 AND status = 'failed' "
                "AND refunded_minor + $2 <= collected_minor RETURNING id", stage_id, amount_minor)
            if row is None:
                stage = await self.stage(stage_id)
                raise Conflict(f"stage {stage.position} is {stage.status} with {stage.in_escrow_minor} in escrow; "
                               f"cannot refund {amount_minor}")
        return await self.stage(stage_id)

    async def mark_refunded(self, stage_id: UUID, *, actor: UUID | None = None) -> Stage:
        """A failed stage whose escrow is empty becomes refunded."""
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            if stage.status == StageStatus.REFUNDED:
                return stage
            if stage.refunded_minor != stage.collected_minor:
                raise Conflict(f"{stage.collected_minor - stage.refunded_minor} of this stage is not refunded yet")
            balance = await self.accounts.escrow_balance(stage)
            if balance != 0:
                raise Conflict(f"the stage's escrow still holds {balance}")
            return await self._move(conn, stage, StageStatus.REFUNDED, actor=actor, reason="every investor refunded")

    # -- budget lines ---------------------------------------------------------------------

    async def add_budget_line(self, stage_id: UUID, *, title: str, planned_minor: int, category: str = "task",
                              required: bool = True) -> BudgetLine:
        if not title.strip():
            raise Invalid("a budget line needs a title", field="title")
        fits(title, "title")
        if category not in BUDGET_CATEGORIES:
            raise Invalid(f"one of {', '.join(BUDGET_CATEGORIES)}", field="category")
        if not isinstance(planned_minor, int) or planned_minor < 0:
            raise Invalid("the planned amount must not be negative", field="planned")
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            if stage.status != StageStatus.DRAFT:
                raise Conflict(f"the stage is {stage.status}; its budget was fixed when collection opened")
            position = await conn.fetchval(
                "SELECT coalesce(max(position), 0) + 1 FROM projects_budget_lines WHERE stage_id = $1", stage_id)
            row = await conn.fetchrow(
                """INSERT INTO projects_budget_lines (id, stage_id, position, title, category, planned_minor, required)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
                uuid.uuid4(), stage_id, position, title.strip(), category, planned_minor, required)
        return BudgetLine.from_record(row)

    async def remove_budget_line(self, line_id: UUID) -> None:
        async with self.db.transaction() as conn:
            line = await conn.fetchrow("SELECT stage_id FROM projects_budget_lines WHERE id = $1", line_id)
            if line is None:
                raise NotFound(f"no budget line {line_id}")
            stage = await self._lock_stage(conn, line["stage_id"])
            if stage.status != StageStatus.DRAFT:
                raise Conflict(f"the stage is {stage.status}; its budget was fixed when collection opened")
            await conn.execute("DELETE FROM projects_budget_lines WHERE id = $1", line_id)

    async def budget_lines(self, stage_id: UUID) -> list[BudgetLine]:
        rows = await self.db.fetch("SELECT * FROM projects_budget_lines WHERE stage_id = $1 ORDER BY position", stage_id)
        return [BudgetLine.from_record(r) for r in rows]

    # -- spending ---------------------------------------------------------------------------

    async def record_spending(self, stage_id: UUID, *, budget_line_id: UUID, amount_minor: int, description: str,
                              spent_on: dt.date, payee: str = "", documents: Sequence[Upload] = (),
                              actor: UUID | None = None) -> SpendingEntry:
        """The project manager records money spent against a budget line, with its receipts."""
        if not isinstance(amount_minor, int) or amount_minor <= 0:
            raise Invalid("the amount must be positive", field="amount")
        if not description.strip():
            raise Invalid("say what the money was spent on", field="description")
        fits(payee, "payee")
        self._check_uploads(documents)
        async with self.db.transaction() as conn:
            stage = await self._lock_stage(conn, stage_id)
            if stage.status not in SPENDING:
                raise Conflict(f"the stage is {stage.status}; spending is recorded once it is funded")
            line = await conn.fetchval("SELECT stage_id FROM projects_budget_lines WHERE id = $1", budget_line_id)
            if line != stage_id:
                raise Invalid("not a budget line of this stage", field="budget_line_id")
            entry_id = uuid.uuid4()
            await conn.execute(
                """INSERT INTO projects_spending (id, stage_id, budget_line_id, amount_minor, description, payee,
                                                  spent_on, recorded_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                entry_id, stage_id, budget_line_id, amount_minor, description.strip(), payee.strip(), spent_on, actor)
            for document in documents:
                await self._attach(conn, document, actor, spending_id=entry_id)
        return await self.spending_entry(entry_id)

    async def attach_to_spending(self, entry_id: UUID, document: Upload, *, actor: UUID | None = None) -> SpendingEntry:
        self._check_uploads([document])
        async with self.db.transaction() as conn:
            status = await conn.fetchval("SELECT status FROM projects_spending WHERE id = $1 FOR UPDATE", entry_id)
            if status is None:
                raise NotFound(f"no spending entry {entry_id}")
            if status != "submitted":
                raise Conflict(f"the entry is {status}; documents are attached before the decision")
            await self._attach(conn, document, actor, spending_id=entry_id)
        return await self.spending_entry(entry_id)

    def _check_uploads(self, documents: Sequence[Upload]) -> None:
        for document in documents:
            try:
                self.files.check(document.data, document.filename)
            except FileError as exc:
                raise Invalid(str(exc), field="documents") from None

    async def _attach(self, conn: Any, document: Upload, actor: UUID | None, *, spending_id: UUID | None = None,
                      publication_id: UUID | None = None) -> None:
        stored = await self.files.put(document.data, document.filename, folder="projects")
        await conn.execute(
            """INSERT INTO projects_attachments (id, spending_id, publication_id, file_key, filename, content_type,
                                                 size_bytes, sha256, uploaded_by)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
            uuid.uuid4(), spending_id, publication_id, stored.key, stored.filename, stored.content_type, stored.size,
            stored.sha256, actor)

    async def approve_spending(self, entry_id: UUID, *, actor: UUID | None, note: str = "") -> SpendingEntry:
        """Finance approves an entry: its amount moves from the stage's escrow to the implementation account."""
        async with self.db.transaction() as conn:
            entry = await self._lock_entry(conn, entry_id)
            if self.settings.four_eyes_spending and actor is not None and actor == entry.recorded_by:
                raise Conflict("the person who recorded this spending cannot approve it; ask finance")
            if not entry.attachments:
                raise Conflict("attach the receipt or invoice before approving")
            stage = await self._lock_stage(conn, entry.stage_id)
            if stage.status not in SPENDING:
                raise Conflict(f"the stage is {stage.status}; money is released only from a funded stage")
            if entry.amount_minor > stage.in_escrow_minor:
                raise Conflict(f"the stage's escrow holds {stage.in_escrow_minor}, less than {entry.amount_minor}")
            transfer = await self.accounts.release(stage, entry)
            await conn.execute("UPDATE projects_spending SET status = 'approved', decided_by = $2, decided_at = now(), "
                               "decision_note = $3, release_transfer_id = $4 WHERE id = $1",
                               entry_id, actor, note.strip(), transfer)
            await conn.execute("UPDATE projects_stages SET released_minor = released_minor + $2 WHERE id = $1",
                               stage.id, entry.amount_minor)
            await self._audit("spending_approved", actor, f"spending:{entry_id}", stage=stage.id,
                              amount_minor=entry.amount_minor, transfer=transfer)
            if stage.status == StageStatus.FUNDED:
                await self._move(conn, stage, StageStatus.IN_PROGRESS, actor=actor, reason="first spending approved")
        return await self.spending_entry(entry_id)

    async def reject_spending(self, entry_id: UUID, *, actor: UUID | None, note: str) -> SpendingEntry:
        if not note.strip():
            raise Invalid("say why the entry is rejected", field="note")
        async with self.db.transaction() as conn:
            entry = await self._lock_entry(conn, entry_id)
            await conn.execute("UPDATE projects_spending SET status = 'rejected', decided_by = $2, decided_at = now(), "
                               "decision_note = $3 WHERE id = $1", entry_id, actor, note.strip())
            await self._audit("spending_rejected", actor, f"spending:{entry_id}", stage=entry.stage_id,
                              amount_minor=entry.amount_minor, note=note.strip())
        return await self.spending_entry(entry_id)

    async def _lock_entry(self, conn: Any, entry_id: UUID) -> SpendingEntry:
        row = await conn.fetchrow("SELECT * FROM projects_spending WHERE id = $1 FOR UPDATE", entry_id)
        if row is None:
            raise NotFound(f"no spending entry {entry_id}")
        entry = SpendingEntry.from_record(row, await self._attachments(spending_id=entry_id))
        if entry.status != "submitted":
            raise Conflict(f"the entry is already {entry.status}")
        return entry

    async def spending_entry(self, entry_id: UUID) -> SpendingEntry:
        row = await self.db.fetchrow("SELECT * FROM projects_spending WHERE id = $1", entry_id)
        if row is None:
            raise NotFound(f"no spending entry {entry_id}")
        return SpendingEntry.from_record(row, await self._attachments(spending_id=entry_id))

    async def spending(self, *, stage_id: UUID | None = None, project_id: UUID | None = None,
                       status: str | None = None) -> list[SpendingEntry]:
        rows = await self.db.fetch(
            """SELECT e.* FROM projects_spending e JOIN projects_stages s ON s.id = e.stage_id
               WHERE ($1::uuid IS NULL OR e.stage_id = $1) AND ($2::uuid IS NULL OR s.project_id = $2)
                 AND ($3::text IS NULL OR e.status = $3)
               ORDER BY s.position, e.recorded_at, e.id""", stage_id, project_id, status)
        attachments = await self._attachments(spending_ids=[r["id"] for r in rows])
        return [SpendingEntry.from_record(r, tuple(a for a in attachments if a.spending_id == r["id"])) for r in rows]

    async def _attachments(self, *, spending_id: UUID | None = None, publication_id: UUID | None = None,
                           spending_ids: Sequence[UUID] | None = None,
                           publication_ids: Sequence[UUID] | None = None) -> tuple[Attachment, ...]:
        if spending_id is not None:
            spending_ids = [spending_id]
        if publication_id is not None:
            publication_ids = [publication_id]
        rows = await self.db.fetch(
            "SELECT * FROM projects_attachments WHERE spending_id = ANY($1::uuid[]) OR publication_id = ANY($2::uuid[]) "
            "ORDER BY uploaded_at, id", list(spending_ids or []), list(publication_ids or []))
        return tuple(Attachment.from_record(r) for r in rows)

    async def attachment(self, attachment_id: UUID) -> tuple[Attachment, bytes]:
        row = await self.db.fetchrow("SELECT * FROM projects_attachments WHERE id = $1", attachment_id)
        if row is None:
            raise NotFound(f"no document {attachment_id}")
        attachment = Attachment.from_record(row)
        try:
            return attachment, await self.files.get(attachment.file_key)
        except LookupError:
            raise NotFound(f"the file of document {attachment_id} is missing from the store") from None

    # -- publications -------------------------------------------------------------------------

    async def create_publication(self, project_id: UUID, *, kind: str, title: str, body: str = "",
                                 stage_id: UUID | None = None, documents: Sequence[Upload] = (),
                                 publish: bool = False, actor: UUID | None = None) -> Publication:
        if kind not in set(PublicationKind):
            raise Invalid(f"one of {', '.join(PublicationKind)}", field="kind")
        if not title.strip():
            raise Invalid("a publication needs a title", field="title")
        fits(title, "title")
        if kind == PublicationKind.STAGE_REPORT and stage_id is None:
            raise Invalid("a stage report names its stage", field="stage_id")
        if kind == PublicationKind.DOCUMENT and not documents:
            raise Invalid("a document publication needs its file", field="documents")
        self._check_uploads(documents)
        await self.project(project_id)
        if stage_id is not None and (await self.stage(stage_id)).project_id != project_id:
            raise Invalid("not a stage of this project", field="stage_id")
        async with self.db.transaction() as conn:
            publication_id = uuid.uuid4()
            await conn.execute(
                """INSERT INTO projects_publications (id, project_id, stage_id, kind, title, body, created_by)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                publication_id, project_id, stage_id, kind, title.strip(), body.strip(), actor)
            for document in documents:
                await self._attach(conn, document, actor, publication_id=publication_id)
            if publish:
                return await self.publish(publication_id, actor=actor)
        return await self.publication(publication_id)

    async def publish(self, publication_id: UUID, *, actor: UUID | None = None) -> Publication:
        """Publish a draft; investors are told through ``on_publication`` once it commits."""
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                "UPDATE projects_publications SET status = 'published', published_at = now(), published_by = $2 "
                "WHERE id = $1 AND status = 'draft' RETURNING id", publication_id, actor)
            if row is None:
                current = await self.publication(publication_id)
                raise Conflict(f"the publication is already {current.status}")
            publication = await self.publication(publication_id)
            await self._audit("published", actor, f"publication:{publication_id}", project=publication.project_id,
                              kind=publication.kind)

            async def emit() -> None:
                await self.platform.plugins.emit("on_publication", platform=self.platform, publication=publication)

            self.db.after_commit(emit)
        return publication

    async def publication(self, publication_id: UUID) -> Publication:
        row = await self.db.fetchrow("SELECT * FROM projects_publications WHERE id = $1", publication_id)
        if row is None:
            raise NotFound(f"no publication {publication_id}")
        return Publication.from_record(row, await self._attachments(publication_id=publication_id))

    async def publications(self, project_id: UUID, *, published_only: bool = True) -> list[Publication]:
        rows = await self.db.fetch(
            "SELECT * FROM projects_publications WHERE project_id = $1 AND (NOT $2 OR status = 'published') "
            "ORDER BY coalesce(published_at, created_at) DESC, id", project_id, published_only)
        attachments = await self._attachments(publication_ids=[r["id"] for r in rows])
        return [Publication.from_record(r, tuple(a for a in attachments if a.publication_id == r["id"])) for r in rows]
