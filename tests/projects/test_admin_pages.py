"""The projects admin pages: forms that post back and redirect, and who may see what."""

import uuid

from core.projects import ProjectService, Upload
from tests.projects.helpers import PDF

MANAGER = ("admin.access", "projects.view", "projects.manage")


async def test_draft_stage_forms_and_visibility(platform, client_as, client):
    admin = await client_as(*MANAGER)
    customer = await client_as(user_id=uuid.uuid4())
    projects = platform.service(ProjectService)
    r = await admin.post("/admin/projects/new", data={"title": "Shop", "slug": "shop", "kind": "crowdinvesting"})
    assert r.status_code == 303
    project = await projects.project("shop")
    assert r.headers["location"].startswith(f"/admin/projects/{project.id}")
    r = await admin.post(f"/admin/projects/{project.id}/stages", data={"title": "Fit-out", "target": "1000"})
    stage = (await projects.stages(project.id))[0]
    await admin.post(f"/admin/projects/stages/{stage.id}/lines", data={"title": "Shelves", "planned": "400"})
    page = (await admin.get(f"/admin/projects/{project.id}")).text
    assert "/edit" in page and "/delete" in page and "Shelves" in page
    r = await admin.post(f"/admin/projects/stages/{stage.id}/edit", data={"title": "Fit-out", "target": "1500.50",
                                                                           "cap": "2000"})
    assert r.status_code == 303
    stage = await projects.stage(stage.id)
    assert (stage.target_minor, stage.cap_minor) == (1500_50, 2000_00)
    line = (await projects.budget_lines(stage.id))[0]
    assert (await admin.post(f"/admin/projects/lines/{line.id}/delete", data={})).status_code == 303
    assert await projects.budget_lines(stage.id) == []
    bad = await admin.post(f"/admin/projects/stages/{stage.id}/edit", data={"target": "lots"},
                           headers={"accept": "text/html"})
    assert bad.status_code == 400 and "target" in bad.text

    assert (await client.get("/projects/shop")).status_code == 404  # a draft is not public
    assert (await admin.get("/projects/shop")).status_code == 200
    assert (await customer.post(f"/admin/projects/stages/{stage.id}/edit", data={"title": "x"})).status_code == 403

    await projects.update_project(project.id, visibility="published")
    publication = await projects.create_publication(project.id, kind="document", title="Lease",
                                                    documents=[Upload(PDF, "lease.pdf")])
    attachment = publication.attachments[0]
    assert (await client.get(f"/projects/attachments/{attachment.id}")).status_code == 404  # a draft's file
    assert (await client.get(f"/projects/shop/publications/{publication.id}")).status_code == 404
    await projects.publish(publication.id)
    document = await client.get(f"/projects/attachments/{attachment.id}")
    assert document.status_code == 200 and document.content == PDF
    assert document.headers["content-type"] == "application/pdf"
    assert "Lease" in (await client.get(f"/projects/shop/publications/{publication.id}")).text
    listed = (await client.get("/api/v1/projects")).json()
    assert [p["slug"] for p in listed if p["slug"] == "shop"] == ["shop"]
