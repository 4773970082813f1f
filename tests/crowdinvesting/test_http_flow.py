"""The whole flow over HTTP: a project, a stage, three investors, spending approved, income paid, the portfolio."""

import uuid

from tests.crowdinvesting.helpers import fund, wallet
from tests.projects.helpers import PDF

ADMIN = ("admin.access", "projects.view", "projects.manage", "crowdinvesting.view", "crowdinvesting.manage",
         "crowdinvesting.post_income")
FINANCE = ("admin.access", "projects.view", "projects.approve_spending")


async def test_crowdinvesting_end_to_end_over_http(platform, client_as, client):
    admin = await client_as(*ADMIN)
    finance = await client_as(*FINANCE)

    r = await admin.post("/api/v1/admin/projects/new", json={
        "slug": "kopikupi-offices", "title": "KOPIKUPI offices", "summary": "Open two offices",
        "kind": "crowdinvesting"})
    assert r.status_code == 201, r.text
    project = r.json()
    r = await admin.post(f"/api/v1/admin/projects/{project['id']}/stages", json={
        "title": "Lease and fit-out", "target": "90000.00", "cap": "90000.00", "closes_at": "2099-12-31"})
    assert r.status_code == 201, r.text
    stage = r.json()
    for title, planned in (("Lease deposit", "50000"), ("Furniture", "40000")):
        r = await admin.post(f"/api/v1/admin/projects/stages/{stage['id']}/lines",
                             json={"title": title, "planned": planned})
        assert r.status_code == 201, r.text
    r = await admin.post(f"/api/v1/admin/projects/stages/{stage['id']}/open", json={})
    assert r.status_code == 409 and "publish the project" in r.json()["detail"]
    assert (await admin.post(f"/api/v1/admin/projects/{project['id']}/edit",
                             json={"visibility": "published"})).status_code == 200
    r = await admin.post(f"/api/v1/admin/projects/stages/{stage['id']}/open", json={})
    assert r.status_code == 200 and r.json()["status"] == "collecting", r.text
    r = await admin.post(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/terms", json={
        "min_investment": "5000", "expected_yield": "18.5", "term_months": "12", "payout_period": "quarter"})
    assert r.status_code == 200, r.text

    investors = [uuid.uuid4() for _ in range(3)]
    clients = []
    for who, amount in zip(investors, ("20000.00", "30000.00", "40000.00"), strict=True):
        await fund(platform, who, 50_000_00)
        http = await client_as(user_id=who)
        clients.append(http)
        r = await http.post(f"/api/v1/crowdinvesting/projects/{project['slug']}/investments",
                            json={"amount": amount}, headers={"Idempotency-Key": f"first-{who}"})
        assert r.status_code == 201, r.text
    retry = await clients[0].post(f"/api/v1/crowdinvesting/projects/{project['slug']}/investments",
                                  json={"amount": "20000.00"}, headers={"Idempotency-Key": f"first-{investors[0]}"})
    assert retry.status_code == 201 and await wallet(platform, investors[0]) == 30_000_00
    r = await clients[0].post(f"/api/v1/crowdinvesting/projects/{project['slug']}/investments",
                              json={"amount": "10.555"})
    assert r.status_code == 400 and r.json()["errors"][0]["key"] == "amount"
    stage_now = (await client.get(f"/api/v1/crowdinvesting/projects/{project['slug']}")).json()["stages"][0]
    assert (stage_now["status"], stage_now["collected_minor"]) == ("funded", 90_000_00)

    report = (await admin.get(f"/api/v1/admin/projects/{project['id']}/report")).json()
    deposit = report["stages"][0]["lines"][0]["id"]
    r = await admin.post(f"/api/v1/admin/projects/stages/{stage['id']}/spending",
                         data={"budget_line_id": deposit, "amount": "50000.00", "description": "Deposit, office 1",
                               "payee": "Landlord LLC", "spent_on": "2026-11-20"},
                         files={"documents": ("lease.pdf", PDF, "application/pdf")})
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["attachments"][0]["filename"] == "lease.pdf"
    assert (await clients[0].post(f"/api/v1/admin/projects/spending/{entry['id']}/approve", json={})).status_code == 403
    r = await finance.post(f"/api/v1/admin/projects/spending/{entry['id']}/approve", json={"note": "ok"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    document = await finance.get(entry["attachments"][0]["url"])
    assert document.status_code == 200 and document.content == PDF
    assert (await client.get(entry["attachments"][0]["url"])).status_code == 404  # receipts are for staff
    public = (await client.get(f"/api/v1/projects/{project['slug']}/report")).json()
    line = public["stages"][0]["lines"][0]
    assert (line["planned_minor"], line["actual_minor"], line["variance_minor"]) == (50_000_00, 50_000_00, 0)
    assert public["stages"][0]["stage"]["status"] == "in_progress"

    r = await admin.post(f"/api/v1/admin/projects/{project['id']}/publications",
                         data={"kind": "accounting_report", "title": "November spending", "body": "Deposit paid",
                               "publish": "true"},
                         files={"documents": ("report.pdf", PDF, "application/pdf")})
    assert r.status_code == 201 and r.json()["status"] == "published", r.text
    assert len((await client.get(f"/api/v1/projects/{project['slug']}/publications")).json()) == 1

    # Maker-checker: one admin posts the income, a second one approves it, then it is paid.
    r = await admin.post(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/income",
                         json={"period": "2026-Q4", "amount": "1000.00"})
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    approval = r.json()["approval_id"]
    own = await admin.post(f"/api/v1/admin/access/approvals/{approval}/approve", json={"note": "mine"})
    assert own.status_code == 403, own.text  # the maker cannot approve their own request
    checker = await client_as("admin.access", "crowdinvesting.post_income")
    r = await checker.post(f"/api/v1/admin/access/approvals/{approval}/approve", json={"note": "bank statement ok"})
    assert r.status_code == 200 and r.json()["status"] == "executed", r.text
    assert r.json()["result"]["created"] and r.json()["result"]["investors"] == 3
    again = await admin.post(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/income",
                             json={"period": "2026-Q4", "amount": "1000.00"})
    assert again.status_code == 200 and not again.json()["created"]  # posted again: nothing, no approval asked
    other = await admin.post(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/income",
                             json={"period": "2026-Q4", "amount": "999.00"})
    assert other.status_code == 409

    received = []
    for http in clients:
        body = (await http.get("/api/v1/crowdinvesting/portfolio")).json()
        [holding] = body["projects"]
        received.append(holding["income_minor"])
        assert body["income_minor"] == holding["income_minor"]
    assert received == [222_22, 333_33, 444_45] and sum(received) == 1_000_00
    assert [(await http.get("/api/v1/crowdinvesting/portfolio")).json()["projects"][0]["share"]["percent"]
            for http in clients] == ["22.2222", "33.3333", "44.4444"]

    stats = (await admin.get(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/stats")).json()
    assert (stats["total"]["amount_minor"], stats["total"]["investors"], stats["total"]["average_ticket_minor"]) == (
        90_000_00, 3, 30_000_00)
    calc = (await client.get("/api/v1/crowdinvesting/calculator",
                             params={"project": project["slug"], "amount": "100000"})).json()
    assert calc["income_minor"] == 18_500_00 and calc["payouts"] == 4

    # Admin routes refuse customers and visitors.
    assert (await clients[1].get("/api/v1/admin/crowdinvesting/projects/x/stats")).status_code == 403
    assert (await client.post(f"/api/v1/admin/crowdinvesting/projects/{project['slug']}/income",
                              json={"period": "x", "amount": "1"})).status_code == 401
    assert (await client.get("/api/v1/crowdinvesting/portfolio")).status_code == 401


async def test_pages_render_for_visitors_customers_and_admins(platform, client_as, client):
    admin = await client_as(*ADMIN, *FINANCE)
    customer = await client_as(user_id=uuid.uuid4())
    for path in ("/crowdinvesting", "/crowdinvesting/calculator"):
        assert (await client.get(path)).status_code == 200, path
    for path in ("/crowdinvesting/portfolio", "/crowdinvesting/certificates", "/crowdinvesting/referral"):
        assert (await customer.get(path)).status_code == 200, path
        assert (await client.get(path)).status_code in (302, 303), path  # visitors are sent to sign in
    for path in ("/admin/projects", "/admin/projects/spending", "/admin/crowdinvesting",
                 "/admin/crowdinvesting/investors", "/admin/crowdinvesting/certificates"):
        assert (await admin.get(path)).status_code == 200, path
        assert (await customer.get(path)).status_code == 403, path


async def test_pages_speak_russian(platform, client_as):
    customer = await client_as(user_id=uuid.uuid4(), locale="ru")
    admin = await client_as(*ADMIN, locale="ru")
    assert "Мой портфель" in (await customer.get("/crowdinvesting/portfolio")).text
    assert "Проекты для инвесторов" in (await customer.get("/crowdinvesting")).text
    assert "Новый проект" in (await admin.get("/admin/projects")).text


async def test_refusals_speak_the_customers_language(platform, client_as):
    from tests.projects.helpers import open_stage, published_project

    project = await published_project(platform)
    await open_stage(platform, project, target=1_000_000_00)
    who = uuid.uuid4()
    await fund(platform, who, 5_000_00)
    russian = await client_as(user_id=who, locale="ru")
    r = await russian.post(f"/api/v1/crowdinvesting/projects/{project.slug}/investments", json={"amount": "6000"})
    assert r.status_code == 409 and "недостаточно" in r.json()["detail"], r.text
    english = await client_as(user_id=who, locale="en")
    r = await english.post(f"/api/v1/crowdinvesting/projects/{project.slug}/investments", json={"amount": "500"})
    assert r.status_code == 400 and "minimum investment" in r.json()["detail"], r.text


async def test_pages_say_only_their_own_messages(platform, client_as):
    """A link's ``done`` is shown only if it is one of the site's messages; a certificate's code stays out of URLs."""
    from urllib.parse import quote

    from plugins.crowdinvesting.referrals import ReferralService

    buyer = uuid.uuid4()
    customer = await client_as(user_id=buyer)
    admin = await client_as(*ADMIN)
    crafted = quote("Your balance is frozen: call +7 900 000 00 00")
    for http, path in ((customer, "/crowdinvesting"), (customer, "/crowdinvesting/portfolio"),
                       (customer, "/crowdinvesting/certificates"), (customer, "/crowdinvesting/referral"),
                       (admin, "/admin/crowdinvesting/investors"), (admin, "/admin/projects")):
        page = await http.get(f"{path}?done={crafted}")
        assert page.status_code == 200 and "frozen" not in page.text, path
    assert "Investment made" in (await customer.get("/crowdinvesting/portfolio?done=Investment%20made")).text
    await fund(platform, buyer, 5_000_00)
    r = await customer.post("/crowdinvesting/certificates", data={"amount": "1000"})
    assert r.status_code == 303 and "GIFT" not in r.headers["location"].upper(), r.headers["location"]
    assert "GIFT-" in (await customer.get(r.headers["location"])).text  # the buyer's page lists the code
    own = await platform.service(ReferralService).code_for(buyer)
    page = await customer.get(f"/crowdinvesting/r/{own}", headers={"accept": "text/html"})
    assert page.status_code == 409 and "yourself" in page.text
