"""Investors are told, admins are audited, sensitive actions wait for a second admin; real sign-in works."""

import re

from core.access.audit import AuditLog
from core.notifications.service import NotificationService
from core.projects import ProjectService
from core.testing import app_client
from core.users.testing import FAST_HASHING, make_user, sign_in
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import fund, wallet
from tests.projects.helpers import open_stage, published_project


async def kinds(platform, user_id):
    return [n.kind for n in await platform.service(NotificationService).list_for(user_id)]


async def test_investors_hear_about_their_investment_and_the_project(platform, broker):
    user = await make_user(platform)
    project = await published_project(platform)
    await open_stage(platform, project, target=1_000_000_00)
    await fund(platform, user.id, 10_000_00)
    await platform.service(InvestmentService).invest(user.id, project.id, 5_000_00)
    await broker.drain()
    assert await kinds(platform, user.id) == ["crowdinvesting.investment_confirmed"]
    await platform.service(ProjectService).create_publication(project.id, kind="news", title="Foundations poured",
                                                              publish=True)
    await broker.drain()
    latest = (await platform.service(NotificationService).list_for(user.id))[0]
    assert latest.kind == "crowdinvesting.publication"
    base = platform.core.web.base_url.rstrip("/")
    assert re.search(rf"{re.escape(base)}/projects/{project.slug}/publications/[0-9a-f-]{{36}}", latest.text), latest.text


async def test_qualification_waits_for_a_second_admin_and_is_audited(platform, client_as):
    investor = await make_user(platform)
    maker = await client_as("admin.access", "crowdinvesting.view", "crowdinvesting.qualify")
    checker = await client_as("admin.access", "crowdinvesting.qualify")
    r = await maker.post(f"/api/v1/admin/crowdinvesting/investors/{investor.id}/qualification",
                         json={"qualified": True, "until": "2099-12-31"})
    assert r.status_code == 202, r.text
    assert not (await platform.service(InvestmentService).investor(investor.id)).qualified
    r = await checker.post(f"/api/v1/admin/access/approvals/{r.json()['approval_id']}/approve", json={"note": ""})
    assert r.json()["status"] == "executed", r.text
    status = await platform.service(InvestmentService).investor(investor.id)
    assert status.qualified and str(status.qualified_until) == "2099-12-31"
    entries = await platform.service(AuditLog).search()
    assert any(e.action == "crowdinvesting.investor_qualification" for e in entries)


async def test_a_signed_in_customer_invests_through_the_page_form(make_platform):
    platform = await make_platform(settings=FAST_HASHING)
    user = await make_user(platform)
    project = await published_project(platform)
    await open_stage(platform, project, target=1_000_000_00)
    await fund(platform, user.id, 20_000_00)
    async with app_client(platform) as http:
        await sign_in(http, user.login)
        del http.headers["x-csrf-token"]  # the form must carry the token itself
        page = await http.get(f"/crowdinvesting/projects/{project.slug}")
        fields = dict(re.findall(r'name="(csrf_token|idempotency_key)" value="([^"]+)"', page.text))
        assert set(fields) == {"csrf_token", "idempotency_key"}
        r = await http.post(f"/crowdinvesting/projects/{project.slug}/invest", data={**fields, "amount": "7000"})
        assert r.status_code == 303 and r.headers["location"].startswith("/crowdinvesting/portfolio"), r.text
        again = await http.post(f"/crowdinvesting/projects/{project.slug}/invest", data={**fields, "amount": "7000"})
        assert again.status_code == 303  # the same form sent twice invests once
        forged = await http.post(f"/crowdinvesting/projects/{project.slug}/invest", data={"amount": "7000"})
        assert forged.status_code == 403
        portfolio = await http.get("/crowdinvesting/portfolio")
        assert "7,000.00" in portfolio.text or "7 000,00" in portfolio.text
    assert await wallet(platform, user.id) == 13_000_00
