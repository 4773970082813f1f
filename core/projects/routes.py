"""What customers and the public see of a project: its stages, its budget against spending, its publications."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response, get
from litestar.params import FromPath

from core.access import identity_of
from core.projects import forms
from core.projects.admin_routes import ADMIN_ROUTES, VIEW, service_of
from core.projects.errors import NotFound
from core.projects.models import PUBLICATION_LABELS, STATUS_LABELS, Project
from core.projects.reports import planned_vs_actual
from core.web.templating import render

VISIBLE = ("published", "archived")


async def visible_project(request: Request[Any, Any, Any], key: FromPath[str]) -> Project:
    """A project the visitor may see: published or archived ones, and drafts for admins."""
    project = await service_of(request).project(key)
    if project.visibility not in VISIBLE and not identity_of(request).can(VIEW):
        raise NotFound(f"no project {key}")
    return project


@get("/projects/{key:str}", include_in_schema=False, name="project-page")
async def project_page(request: Request[Any, Any, Any], key: FromPath[str]) -> Any:
    service = service_of(request)
    project = await visible_project(request, key)
    return render(request, "projects/project.html", project=project,
                  report=await planned_vs_actual(service, project.id),
                  publications=await service.publications(project.id), status_labels=STATUS_LABELS,
                  publication_labels=PUBLICATION_LABELS)


@get("/projects/{key:str}/publications/{publication_id:str}", include_in_schema=False, name="publication-page")
async def publication_page(request: Request[Any, Any, Any], key: FromPath[str], publication_id: FromPath[str]) -> Any:
    project = await visible_project(request, key)
    publication = await service_of(request).publication(forms.uuid_of(publication_id, "publication_id"))
    if publication.project_id != project.id or (publication.status != "published"
                                                and not identity_of(request).can(VIEW)):
        raise NotFound(f"no publication {publication_id} in this project")
    return render(request, "projects/publication.html", project=project, publication=publication,
                  publication_labels=PUBLICATION_LABELS)


@get("/projects/attachments/{attachment_id:str}", include_in_schema=False, name="project-attachment")
async def attachment_download(request: Request[Any, Any, Any], attachment_id: FromPath[str]) -> Response[bytes]:
    """A document: published ones for everyone, receipts of spending for project staff only."""
    service = service_of(request)
    attachment, data = await service.attachment(forms.uuid_of(attachment_id, "attachment_id"))
    staff = identity_of(request).can(VIEW)
    if attachment.spending_id is not None and not staff:
        raise NotFound(f"no document {attachment_id}")
    if attachment.publication_id is not None and not staff:
        publication = await service.publication(attachment.publication_id)
        if publication.status != "published":
            raise NotFound(f"no document {attachment_id}")
    disposition = "inline" if attachment.content_type.startswith("image/") or attachment.content_type.endswith("pdf") \
        else "attachment"
    return Response(data, media_type=attachment.content_type, headers={
        "content-disposition": f"{disposition}; filename*=UTF-8''{quote(attachment.filename)}",
        "x-content-type-options": "nosniff",
    })


@get("/api/v1/projects", tags=["projects"], summary="Published projects with their stages")
async def api_projects(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    service = service_of(request)
    return [{**p.as_json(), "stages": [s.as_json() for s in await service.stages(p.id)]}
            for p in await service.projects(visibility=VISIBLE)]


@get("/api/v1/projects/{key:str}", tags=["projects"], summary="A project, its stages and budget lines")
async def api_project(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, Any]:
    service = service_of(request)
    project = await visible_project(request, key)
    stages = []
    for stage in await service.stages(project.id):
        stages.append({**stage.as_json(), "budget_lines": [b.as_json() for b in await service.budget_lines(stage.id)]})
    return {**project.as_json(), "stages": stages}


@get("/api/v1/projects/{key:str}/report", tags=["projects"], summary="Planned against actual spending, per line")
async def api_report(request: Request[Any, Any, Any], key: FromPath[str]) -> dict[str, Any]:
    project = await visible_project(request, key)
    return (await planned_vs_actual(service_of(request), project.id)).as_json()


@get("/api/v1/projects/{key:str}/publications", tags=["projects"], summary="A project's published news and reports")
async def api_publications(request: Request[Any, Any, Any], key: FromPath[str]) -> list[dict[str, Any]]:
    project = await visible_project(request, key)
    return [p.as_json() for p in await service_of(request).publications(project.id)]


ROUTES = [project_page, publication_page, attachment_download, api_projects, api_project, api_report,
          api_publications, *ADMIN_ROUTES]
