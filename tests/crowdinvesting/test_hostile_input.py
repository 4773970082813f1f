"""What a careless or hostile client sends gets a 4xx naming the field, and moves no money (these were 500s)."""


from plugins.crowdinvesting.certificates import CertificateService
from plugins.crowdinvesting.distribution import IncomeService
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import fund, wallet
from tests.crowdinvesting.test_distribution import three_investors_funded

ADMIN = ("admin.access", "crowdinvesting.view", "crowdinvesting.manage", "crowdinvesting.post_income")
NUL = "a\x00b"


async def test_customers_bad_input(platform, client_as, client):
    project, _stage, (investor, *_others) = await three_investors_funded(platform)
    customer = await client_as(user_id=investor)
    await fund(platform, investor, 10_000_00)
    before = await wallet(platform, investor)
    api = "/api/v1/crowdinvesting"
    for path, body, field in [
        (f"{api}/projects/{project.slug}/investments", {"amount": "1e30"}, "amount"),
        (f"{api}/projects/{project.slug}/investments", {"amount": 10**30}, "amount"),
        (f"{api}/projects/{project.slug}/investments", {"amount": "5000", "idempotency_key": NUL}, "idempotency_key"),
        (f"{api}/limits/declared", {"amount": "99999999999999999999"}, "amount"),
        (f"{api}/certificates", {"amount": "1000", "recipient_name": NUL}, "recipient_name"),
        (f"{api}/certificates", {"amount": "1e30"}, "amount"),
    ]:
        r = await customer.post(path, json=body)
        assert r.status_code == 400 and r.json()["errors"][0]["key"] == field, (path, body, r.text)
    r = await customer.post(f"{api}/certificates/redeem", json={"code": "GIFT-AAAA-AAAA-AAAA-AAAA", "project": NUL})
    assert r.status_code == 400 and r.json()["errors"][0]["key"] == "project"
    assert (await customer.post(f"{api}/projects/a%00b/investments", json={"amount": "5000"})).status_code == 404
    assert (await client.get(f"{api}/calculator?project={project.slug}&amount=1e30")).status_code == 400
    page = await client.get(f"/crowdinvesting/calculator?project={project.slug}&amount=1e30")
    assert page.status_code == 200 and "too large" in page.text
    assert (await client.get(f"{api}/calculator?project=%00&amount=100")).status_code == 404
    assert await wallet(platform, investor) == before
    assert await platform.service(CertificateService).certificates(buyer_id=investor) == []
    assert (await platform.service(InvestmentService).allowance(investor)).declared_elsewhere_minor == 0


async def test_admins_bad_input(platform, client_as):
    project, _stage, _investors = await three_investors_funded(platform)
    admin = await client_as(*ADMIN)
    api = f"/api/v1/admin/crowdinvesting/projects/{project.slug}"
    for path, body, field in [
        (f"{api}/income", {"period": NUL, "amount": "100"}, "period"),
        (f"{api}/income", {"period": "2026-Q4", "amount": "100", "note": NUL}, "note"),
        (f"{api}/income", {"period": "2026-Q4", "amount": "1e30"}, "amount"),
        (f"{api}/terms", {"min_investment": "1e30"}, "min_investment"),
        (f"{api}/terms", {"min_investment": "100", "max_per_investor": "1e30"}, "max_per_investor"),
        (f"{api}/terms", {"min_investment": "100", "expected_yield": "Infinity"}, "expected_yield"),
    ]:
        r = await admin.post(path, json=body)
        assert r.status_code == 400 and r.json()["errors"][0]["key"] == field, (path, body, r.text)
    assert await platform.service(IncomeService).distributions(project.id) == []
    distribution = await platform.service(IncomeService).distribute(project.id, amount_minor=100, period="p")
    r = await admin.get(f"/api/v1/admin/crowdinvesting/distributions/{distribution.id}?offset=99999999999999999999")
    assert r.status_code == 400 and r.json()["errors"][0]["key"] == "offset"
