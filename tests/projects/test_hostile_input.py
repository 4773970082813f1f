"""What a careless or hostile client sends gets a 4xx naming the field, and changes nothing (these were 500s)."""

import uuid

import pytest

from core.projects import ProjectService

MANAGER = ("admin.access", "projects.view", "projects.manage")
LONG = "x" * 201
NUL = "a\x00b"


@pytest.fixture
async def draft(platform):
    projects = platform.service(ProjectService)
    project = await projects.create_project(slug=f"h-{uuid.uuid4().hex[:8]}", title="Hostile", kind="crowdinvesting")
    stage = await projects.add_stage(project.id, title="One", target_minor=1_000_00)
    return project, stage


def bad_requests(project, stage):
    p, s = f"/api/v1/admin/projects/{project.id}", f"/api/v1/admin/projects/stages/{stage.id}"
    return [
        ("/api/v1/admin/projects/new", {"slug": "long-title", "title": LONG}, "title"),
        ("/api/v1/admin/projects/new", {"slug": "long-kind", "title": "t", "kind": LONG}, "kind"),
        ("/api/v1/admin/projects/new", {"slug": "nul-title", "title": NUL}, "title"),
        (f"{p}/edit", {"summary": NUL}, "summary"),
        (f"{p}/edit", {"title": LONG}, "title"),
        (f"{p}/stages", {"title": "S", "target": "1e30"}, "target"),
        (f"{p}/stages", {"title": "S", "target": "99999999999999999999"}, "target"),
        (f"{p}/stages", {"title": "S", "target": 10**30}, "target"),
        (f"{p}/stages", {"title": LONG, "target": "100"}, "title"),
        (f"{p}/stages", {"title": "S", "target": "100", "closes_at": "9999-12-31"}, "closes_at"),
        (f"{p}/stages", {"title": "S", "target": "100", "closes_at": "0001-01-01T00:00:00+01:00"}, "closes_at"),
        (f"{s}/edit", {"target": "1e25"}, "target"),
        (f"{s}/lines", {"title": "L", "planned": "1e30"}, "planned"),
        (f"{s}/lines", {"title": LONG, "planned": "1"}, "title"),
        (f"{s}/open", {"closes_at": "9999-12-31"}, "closes_at"),
        (f"{p}/publications", {"kind": "news", "title": LONG}, "title"),
        (f"{p}/publications", {"kind": "news", "title": "t", "body": NUL}, "body"),
    ]


async def test_bad_input_is_a_4xx_that_names_the_field_and_changes_nothing(platform, client_as, draft):
    admin = await client_as(*MANAGER)
    project, stage = draft
    projects = platform.service(ProjectService)
    before = ([p.as_json() for p in await projects.projects()], [s.as_json() for s in await projects.stages(project.id)])
    for path, body, field in bad_requests(project, stage):
        r = await admin.post(path, json=body)
        assert r.status_code == 400, (path, body, r.status_code, r.text)
        assert r.json()["errors"][0]["key"] == field, (path, body, r.text)
    r = await admin.post(f"/api/v1/admin/projects/{project.id}/edit", json={"summary": 5, "description": 6})
    assert r.status_code == 200 and r.json()["summary"] == "5"  # a number where text was expected is its text
    r = await admin.post(f"/admin/projects/{project.id}/edit", data={"summary": NUL}, headers={"accept": "text/html"})
    assert r.status_code == 400 and "summary" in r.text
    await projects.update_project(project.id, summary="", description="")
    after = ([p.as_json() for p in await projects.projects()], [s.as_json() for s in await projects.stages(project.id)])
    assert after == before


@pytest.mark.parametrize("path", ["/projects/a%00b", "/api/v1/projects/a%00b", "/api/v1/projects/a%00b/report"])
async def test_an_address_that_cannot_be_a_project_is_not_found(client, path):
    assert (await client.get(path)).status_code == 404
