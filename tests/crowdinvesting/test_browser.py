"""The whole flow in Chromium: an admin sets up a project, three investors invest, finance approves spending,
income is distributed, and each investor's portfolio shows it."""

import asyncio
import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from core.access import SCOPE_KEY
from core.testing import free_port, make_identity, require, wait_for_http
from tests.crowdinvesting.helpers import fund
from tests.projects.helpers import PDF

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
PEOPLE_COOKIE = "test_person"


def signed_in_by_cookie(app, people):
    """Test only: the cookie names which of ``people`` the browser is (the users plugin does real sign-in)."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            cookies = dict(h for h in scope.get("headers", []) if h[0] == b"cookie")
            for part in cookies.get(b"cookie", b"").decode().split(";"):
                name, _eq, value = part.strip().partition("=")
                if name == PEOPLE_COOKIE and value in people:
                    scope = {**scope, SCOPE_KEY: people[value]}
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
async def server(platform):
    import uvicorn

    from core.web.app import create_app

    investors = [uuid.uuid4() for _ in range(3)]
    people = {
        "admin": make_identity("admin.access", "projects.view", "projects.manage", "crowdinvesting.view",
                               "crowdinvesting.manage", "crowdinvesting.post_income", locale="en"),
        "finance": make_identity("admin.access", "projects.view", "projects.approve_spending", locale="en"),
        "checker": make_identity("admin.access", "access.approvals.view", "crowdinvesting.view",
                                 "crowdinvesting.post_income", locale="en"),
        **{f"investor{i}": make_identity(user_id=who, locale="en") for i, who in enumerate(investors)},
    }
    port = free_port()
    app = signed_in_by_cookie(create_app(platform), people)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await wait_for_http(f"http://127.0.0.1:{port}/healthz")
    yield f"http://127.0.0.1:{port}", investors
    server.should_exit = True
    await task


@pytest.mark.browser
async def test_crowdinvesting_in_the_browser(server, platform, tmp_path):
    require("chromium", await asyncio.to_thread(CHROMIUM.exists))
    from playwright.async_api import async_playwright, expect

    base, investors = server
    for who in investors:
        await fund(platform, who, 50_000_00)
    receipt = tmp_path / "receipt.pdf"
    await asyncio.to_thread(receipt.write_bytes, PDF)

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)

        async def as_person(name):
            context = await browser.new_context(base_url=base, locale="en-US")
            await context.add_cookies([{"name": PEOPLE_COOKIE, "value": name, "url": base},
                                       {"name": "lang", "value": "en", "url": base}])
            return await context.new_page()

        admin = await as_person("admin")
        await admin.goto("/admin/projects")
        new = admin.locator("form[action='/admin/projects/new']")
        await new.locator("[name=title]").fill("Open House offices")
        await new.locator("[name=slug]").fill("offices")
        await new.locator("button[type=submit]").click()
        await expect(admin.locator("h1")).to_have_text("Open House offices")
        project_url = admin.url.split("?")[0]

        await admin.locator("summary", has_text="Project details").click()
        await admin.locator("select[name=visibility]").select_option("published")
        await admin.locator("form[action$='/edit'] button").click()
        await admin.locator("summary", has_text="Add a stage").click()
        stage_form = admin.locator("form[action$='/stages']")
        await stage_form.locator("[name=title]").fill("Lease and fit-out")
        await stage_form.locator("[name=target]").fill("90000")
        await stage_form.locator("[name=closes_at]").fill((dt.date.today() + dt.timedelta(days=30)).isoformat())
        await stage_form.locator("button").click()
        for title, planned in (("Deposit", "50000"), ("Furniture", "40000")):
            lines = admin.locator("form[action$='/lines']")
            await lines.locator("[name=title]").fill(title)
            await lines.locator("[name=planned]").fill(planned)
            await lines.locator("button").click()
        await admin.locator("button[name=open]").click()
        await expect(admin.locator(".stage .badge").first).to_have_attribute("data-status", "collecting")

        for i, amount in enumerate(("20000", "30000", "40000")):
            page = await as_person(f"investor{i}")
            await page.goto("/crowdinvesting")
            await page.get_by_role("link", name="Open House offices").click()
            await page.locator("input[name=amount]").fill(amount)
            await page.get_by_role("button", name="Invest from my balance").click()
            await expect(page).to_have_url(re.compile(r"/crowdinvesting/portfolio"))
            await expect(page.locator("[data-figure=invested]")).to_contain_text(f"{amount[:2]},000.00")

        await admin.goto(project_url)
        await expect(admin.locator(".stage .badge").first).to_have_attribute("data-status", "funded")
        await admin.locator("summary", has_text="Record spending").click()
        spend = admin.locator("form[action$='/spending']")
        await spend.locator("[name=amount]").fill("50000")
        await spend.locator("[name=spent_on]").fill("2026-11-20")
        await spend.locator("[name=description]").fill("Deposit for office 1")
        await spend.locator("[name=documents]").set_input_files(str(receipt))
        await spend.locator("button").click()
        await expect(admin.get_by_role("link", name="receipt.pdf")).to_be_visible()

        finance = await as_person("finance")
        await finance.goto(project_url)
        await finance.locator("button[name=approve]").click()
        await expect(finance.locator("[data-entry] .badge.ok")).to_have_text("Approved")

        await admin.goto(project_url.replace("/admin/projects/", "/admin/crowdinvesting/projects/"))
        income = admin.locator("form[action$='/income']")
        await income.locator("[name=period]").fill("2026-Q4")
        await income.locator("[name=amount]").fill("1000")
        await income.locator("button").click()
        await expect(admin.locator(".flash")).to_have_text("Waiting for a second admin's approval")

        checker = await as_person("checker")  # maker-checker: posting income needs a second admin
        await checker.goto("/admin/access/approvals")
        await expect(checker.locator("tbody tr").first).to_contain_text("1,000.00 of income")
        await checker.locator("form[action$='/approve'] button").click()
        await expect(checker.locator(".flash")).to_contain_text("executed")
        await admin.goto(project_url.replace("/admin/projects/", "/admin/crowdinvesting/projects/"))
        await expect(admin.locator("[data-figure=investors]")).to_have_text("3")
        await expect(admin.locator("table").last).to_contain_text("2026-Q4")

        expected = {0: ("222.22", "22.2222%"), 1: ("333.33", "33.3333%"), 2: ("444.45", "44.4444%")}
        for i, (received, share) in expected.items():
            page = await as_person(f"investor{i}")
            await page.goto("/crowdinvesting/portfolio")
            await expect(page.locator("[data-figure=project-income]")).to_contain_text(received)
            await expect(page.locator("[data-figure=share]")).to_have_text(share)

        await page.set_viewport_size({"width": 375, "height": 800})  # a phone: wide tables scroll, the page does not
        for path in ("/crowdinvesting/portfolio", "/projects/offices", "/crowdinvesting/calculator?project=offices"):
            await page.goto(path)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
        await browser.close()
