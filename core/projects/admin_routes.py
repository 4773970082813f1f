"""Admin pages and the admin API of staged projects.

Every admin action is served twice from one handler: as a form post under
``/admin/projects/...`` (answered with a redirect back to the project's page) and as JSON
under ``/api/v1/admin/projects/...``. Both read their input the same way (JSON, urlencoded or
multipart) and call the same service method, so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from core.access import identity_of, requires
from core.projects import forms
from core.projects.errors import Invalid
from core.projects.models import BUDGET_CATEGORIES, PUBLICATION_LABELS, STATUS_LABELS, PublicationKind
from core.projects.reports import planned_vs_actual
from core.projects.service import ProjectService, Upload
from core.web.templating import render

VIEW, MANAGE, APPROVE = "projects.view", "projects.manage", "projects.approve_spending"


def service_of(request: Request[Any, Any, Any]) -> ProjectService:
    return request.app.state.platform.service(ProjectService)


@dataclass
class Action:
    """What an admin action gets: who, which ids, and what was sent."""

    request: Request[Any, Any, Any]
    service: ProjectService
    fields: dict[str, Any]
    uploads: list[Upload]

    @property
    def actor(self) -> UUID | None:
        return identity_of(self.request).user_id

    def id(self, name: str) -> UUID:
        return forms.uuid_of(self.request.path_params[name], name)

    def text(self, name: str, default: str = "") -> str:
        value = self.fields.get(name, default)
        return "" if value is None else str(value)

    def optional(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None or str(value).strip() == "" else str(value)

    def given(self, name: str) -> str | None:
        """The field as text when it was sent (even empty, which clears it), None when it was not."""
        value = self.fields.get(name)
        return None if value is None else str(value)

    @property
    def timezone(self) -> str:
        return self.request.app.state.platform.core.platform.timezone


ActionFn = Callable[[Action], Awaitable[tuple[Any, UUID]]]
#: What the admin pages say after an action: the actions' own messages, and no text a crafted link brings.
DONE_MESSAGES: set[str] = set()


def done_message(request: Request[Any, Any, Any]) -> str | None:
    message = request.query_params.get("done")
    return message if message in DONE_MESSAGES else None


def admin_action(path: str, permission: str, summary: str, done: str, fn: ActionFn, *, status_code: int = 200):
    """One handler for ``/admin/projects<path>`` (form, redirect) and ``/api/v1/admin/projects<path>`` (JSON)."""
    DONE_MESSAGES.add(done)

    async def handler(request: Request[Any, Any, Any]) -> Response[Any]:
        fields, uploads = await forms.read_input(request)
        result, project_id = await fn(Action(request, service_of(request), fields, uploads))
        if forms.is_api(request):
            return Response(result.as_json(), status_code=status_code)
        return Redirect(f"/admin/projects/{project_id}?done={quote(done)}", status_code=303)

    handler.__name__ = "admin_" + fn.__name__.strip("_")
    return post([f"/admin/projects{path}", f"/api/v1/admin/projects{path}"], guards=[requires(permission)],
                summary=summary, tags=["projects admin"], name=handler.__name__, status_code=status_code,
                request_max_body_size=64 * 1024 * 1024)(handler)


# -- the actions -------------------------------------------------------------------------------------


async def _create_project(a: Action) -> tuple[Any, UUID]:
    project = await a.service.create_project(
        slug=a.text("slug"), title=a.text("title"), summary=a.text("summary"), description=a.text("description"),
        currency=a.optional("currency"), kind=a.text("kind"), actor=a.actor)
    return project, project.id


async def _edit_project(a: Action) -> tuple[Any, UUID]:
    project = await a.service.update_project(
        a.id("project_id"), title=a.optional("title"), summary=a.given("summary"),
        description=a.given("description"), visibility=a.optional("visibility"))
    return project, project.id


async def _add_stage(a: Action) -> tuple[Any, UUID]:
    project = await a.service.project(a.id("project_id"))
    target = forms.amount_minor(a.fields.get("target"), project.currency, "target")
    cap = forms.amount_minor(a.fields["cap"], project.currency, "cap") if a.optional("cap") else None
    stage = await a.service.add_stage(
        project.id, title=a.text("title"), description=a.text("description"), target_minor=target, cap_minor=cap,
        opens_at=forms.moment_of(a.fields.get("opens_at"), "opens_at", a.timezone),
        closes_at=forms.moment_of(a.fields.get("closes_at"), "closes_at", a.timezone))
    return stage, project.id


async def _edit_stage(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.stage(a.id("stage_id"))
    cur = stage.currency
    stage = await a.service.update_stage(
        stage.id, title=a.optional("title"), description=a.given("description"),
        target_minor=forms.amount_minor(a.fields["target"], cur, "target") if a.optional("target") else None,
        cap_minor=forms.amount_minor(a.fields["cap"], cur, "cap") if a.optional("cap") else None,
        opens_at=forms.moment_of(a.fields.get("opens_at"), "opens_at", a.timezone),
        closes_at=forms.moment_of(a.fields.get("closes_at"), "closes_at", a.timezone))
    return stage, stage.project_id


async def _add_line(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.stage(a.id("stage_id"))
    line = await a.service.add_budget_line(
        stage.id, title=a.text("title"), category=a.text("category", "task") or "task",
        planned_minor=forms.amount_minor(a.fields.get("planned"), stage.currency, "planned", allow_zero=True),
        required=forms.flag(a.fields.get("required", True)))
    return line, stage.project_id


async def _remove_line(a: Action) -> tuple[Any, UUID]:
    line_id = a.id("line_id")
    row = await a.service.db.fetchrow(
        "SELECT s.project_id FROM projects_budget_lines l JOIN projects_stages s ON s.id = l.stage_id "
        "WHERE l.id = $1", line_id)
    await a.service.remove_budget_line(line_id)
    return _Done({"removed": str(line_id)}), row["project_id"]


async def _open(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.open_collection(
        a.id("stage_id"), actor=a.actor,
        opens_at=forms.moment_of(a.fields.get("opens_at"), "opens_at", a.timezone),
        closes_at=forms.moment_of(a.fields.get("closes_at"), "closes_at", a.timezone))
    return stage, stage.project_id


async def _close(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.close_collection(a.id("stage_id"), actor=a.actor, reason=a.text("reason"))
    return stage, stage.project_id


async def _start(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.start_implementation(a.id("stage_id"), actor=a.actor)
    return stage, stage.project_id


async def _complete(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.complete_stage(a.id("stage_id"), actor=a.actor)
    return stage, stage.project_id


async def _record_spending(a: Action) -> tuple[Any, UUID]:
    stage = await a.service.stage(a.id("stage_id"))
    entry = await a.service.record_spending(
        stage.id, budget_line_id=forms.uuid_of(a.fields.get("budget_line_id"), "budget_line_id"),
        amount_minor=forms.amount_minor(a.fields.get("amount"), stage.currency, "amount"),
        description=a.text("description"), payee=a.text("payee"),
        spent_on=forms.date_of(a.fields.get("spent_on"), "spent_on"), documents=a.uploads, actor=a.actor)
    return entry, stage.project_id


async def _attach(a: Action) -> tuple[Any, UUID]:
    if not a.uploads:
        raise Invalid("choose a file to attach", field="documents")
    entry_id = a.id("entry_id")
    for upload in a.uploads:
        entry = await a.service.attach_to_spending(entry_id, upload, actor=a.actor)
    stage = await a.service.stage(entry.stage_id)
    return entry, stage.project_id


async def _approve(a: Action) -> tuple[Any, UUID]:
    entry = await a.service.approve_spending(a.id("entry_id"), actor=a.actor, note=a.text("note"))
    return entry, (await a.service.stage(entry.stage_id)).project_id


async def _reject(a: Action) -> tuple[Any, UUID]:
    entry = await a.service.reject_spending(a.id("entry_id"), actor=a.actor, note=a.text("note"))
    return entry, (await a.service.stage(entry.stage_id)).project_id


async def _publish_new(a: Action) -> tuple[Any, UUID]:
    project_id = a.id("project_id")
    stage_id = forms.uuid_of(a.fields["stage_id"], "stage_id") if a.optional("stage_id") else None
    publication = await a.service.create_publication(
        project_id, kind=a.text("kind", "news"), title=a.text("title"), body=a.text("body"), stage_id=stage_id,
        documents=a.uploads, publish=forms.flag(a.fields.get("publish", False)), actor=a.actor)
    return publication, project_id


async def _publish(a: Action) -> tuple[Any, UUID]:
    publication = await a.service.publish(a.id("publication_id"), actor=a.actor)
    return publication, publication.project_id


@dataclass
class _Done:
    body: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return self.body


ACTIONS = [
    admin_action("/new", MANAGE, "Create a project", "Project created", _create_project, status_code=201),
    admin_action("/{project_id:str}/edit", MANAGE, "Change a project", "Project saved", _edit_project),
    admin_action("/{project_id:str}/stages", MANAGE, "Add a stage", "Stage added", _add_stage, status_code=201),
    admin_action("/stages/{stage_id:str}/edit", MANAGE, "Change a draft stage", "Stage saved", _edit_stage),
    admin_action("/stages/{stage_id:str}/lines", MANAGE, "Add a budget line", "Budget line added", _add_line,
                 status_code=201),
    admin_action("/lines/{line_id:str}/delete", MANAGE, "Remove a budget line", "Budget line removed", _remove_line),
    admin_action("/stages/{stage_id:str}/open", MANAGE, "Open collection", "Collection opened", _open),
    admin_action("/stages/{stage_id:str}/close", MANAGE, "Close collection", "Collection closed", _close),
    admin_action("/stages/{stage_id:str}/start", MANAGE, "Start implementation", "Implementation started", _start),
    admin_action("/stages/{stage_id:str}/complete", MANAGE, "Complete a stage", "Stage completed", _complete),
    admin_action("/stages/{stage_id:str}/spending", MANAGE, "Record spending with its documents",
                 "Spending recorded", _record_spending, status_code=201),
    admin_action("/spending/{entry_id:str}/documents", MANAGE, "Attach a document to spending", "Document attached",
                 _attach),
    admin_action("/spending/{entry_id:str}/approve", APPROVE, "Approve spending: release it from escrow",
                 "Spending approved", _approve),
    admin_action("/spending/{entry_id:str}/reject", APPROVE, "Reject spending", "Spending rejected", _reject),
    admin_action("/{project_id:str}/publications", MANAGE, "Write a publication", "Publication saved", _publish_new,
                 status_code=201),
    admin_action("/publications/{publication_id:str}/publish", MANAGE, "Publish a publication", "Published",
                 _publish),
]


# -- pages and reads -----------------------------------------------------------------------------------


@get("/admin/projects", guards=[requires(VIEW)], include_in_schema=False, name="projects-admin")
async def admin_projects(request: Request[Any, Any, Any]) -> Any:
    service = service_of(request)
    projects = await service.projects()
    stages = {p.id: await service.stages(p.id) for p in projects}
    return render(request, "projects/admin_list.html", projects=projects, stages=stages,
                  status_labels=STATUS_LABELS, done=done_message(request))


@get("/admin/projects/{project_id:str}", guards=[requires(VIEW)], include_in_schema=False,
     name="projects-admin-project")
async def admin_project(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Any:
    service = service_of(request)
    project = await service.project(project_id)
    report = await planned_vs_actual(service, project.id)
    spending = await service.spending(project_id=project.id)
    lines = {line.line.id: line.line for stage in report.stages for line in stage.lines}
    return render(request, "projects/admin_project.html", project=project, report=report, spending=spending,
                  lines=lines, publications=await service.publications(project.id, published_only=False),
                  history={s.stage.id: await service.history(s.stage.id) for s in report.stages},
                  status_labels=STATUS_LABELS, publication_labels=PUBLICATION_LABELS,
                  publication_kinds=list(PublicationKind), categories=BUDGET_CATEGORIES,
                  done=done_message(request))


@get("/admin/projects/spending", guards=[requires(VIEW)], include_in_schema=False, name="projects-admin-spending")
async def admin_spending_queue(request: Request[Any, Any, Any]) -> Any:
    """Finance's queue: every entry waiting for a decision, oldest first."""
    service = service_of(request)
    entries = await service.spending(status="submitted")
    stages = {e.stage_id: await service.stage(e.stage_id) for e in entries}
    projects = {s.project_id: await service.project(s.project_id) for s in stages.values()}
    return render(request, "projects/admin_spending.html", entries=entries, stages=stages, projects=projects)


@get("/api/v1/admin/projects", guards=[requires(VIEW)], tags=["projects admin"], summary="Every project")
async def api_admin_projects(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    service = service_of(request)
    return [{**p.as_json(), "stages": [s.as_json() for s in await service.stages(p.id)]}
            for p in await service.projects()]


@get("/api/v1/admin/projects/{project_id:str}/report", guards=[requires(VIEW)], tags=["projects admin"],
     summary="Planned against actual, with pending spending")
async def api_admin_report(request: Request[Any, Any, Any], project_id: FromPath[str]) -> dict[str, Any]:
    service = service_of(request)
    project = await service.project(project_id)
    report = (await planned_vs_actual(service, project.id)).as_json()
    report["spending"] = [e.as_json() for e in await service.spending(project_id=project.id)]
    report["publications"] = [p.as_json() for p in await service.publications(project.id, published_only=False)]
    return report


@get("/api/v1/admin/projects/spending", guards=[requires(VIEW)], tags=["projects admin"],
     summary="Spending entries, by status (default: waiting for approval)")
async def api_admin_spending(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    status = request.query_params.get("status", "submitted")
    if status not in ("submitted", "approved", "rejected"):
        raise Invalid("submitted, approved or rejected", field="status")
    return [e.as_json() for e in await service_of(request).spending(status=status)]


ADMIN_ROUTES = [*ACTIONS, admin_projects, admin_spending_queue, admin_project, api_admin_projects, api_admin_report,
                api_admin_spending]
