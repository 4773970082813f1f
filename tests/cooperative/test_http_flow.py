"""Three members save on different dates; a valuation allots exactly the right one; the ledger agrees."""

import datetime as dt

from core.jobs.runtime import Jobs
from core.users.testing import make_user
from plugins.cooperative.service import CooperativeService
from tests.cooperative.conftest import START
from tests.cooperative.helpers import PROGRAM, balance, top_up


async def test_join_contribute_valuate_allot_repay(platform, client_as, business_date):
    admin = await client_as("cooperative.manage")
    created = await admin.post("/api/v1/admin/cooperative/programs", json=PROGRAM)
    assert created.status_code == 201, created.text
    program_id = created.json()["id"]
    pool = f"coop_program:{program_id}"

    members = {}
    for name, target, share, wallet in (("a", "200000", 120_000_00, 140_000_00), ("b", "300000", 160_000_00, 160_000_00),
                                        ("c", "100000", 60_000_00, 60_000_00)):
        user = await make_user(platform, f"{name}@example.com")
        await top_up(platform, user.id, wallet)
        http = await client_as(user_id=user.id)
        joined = await http.post("/api/v1/cooperative/programs/flat/members", json={"target": target})
        assert joined.status_code == 201, joined.text
        members[name] = (user, http, share)

    # a saves on day 0, b on day 10, c on day 20.
    for offset, name in ((0, "a"), (10, "b"), (20, "c")):
        await business_date.set(START + dt.timedelta(days=offset))
        user, http, share = members[name]
        for _ in range(2):  # a retry moves no money twice
            paid = await http.post("/api/v1/cooperative/programs/flat/contributions",
                                   json={"amount": f"{share // 100}", "idempotency_key": "share-1"})
            assert paid.status_code == 201, paid.text
    assert await balance(platform, pool, "cooperative.pool") == 340_000_00

    # Close of day 40: scores a 120k×40/200k = 24, b 160k×30/300k = 16, c 60k×20/100k = 12.
    # Pool 340k, reserve 10 % of 340k = 34k: 306k available. a (200k) is allotted; b (300k) cannot be
    # funded with the 106k left, and the strict queue does not skip to c (100k).
    valuation_date = START + dt.timedelta(days=40)
    await business_date.set(valuation_date)
    assert await platform.service(Jobs).close_day() == valuation_date

    view = (await members["c"][1].get("/api/v1/cooperative/programs/flat")).json()
    assert [(p["rank"], p["score"], p["eligible"], p["allotted"]) for p in view["queue"]] == [
        (1, "24.000000", True, True), (2, "16.000000", True, False), (3, "12.000000", True, False)]
    assert view["valuation"]["available_minor"] == 306_000_00 and view["valuation"]["allotted_minor"] == 200_000_00
    assert all(p["member"].startswith("M-") and "@" not in p["member"] for p in view["queue"])

    def books():
        return {"pool": balance(platform, pool, "cooperative.pool"),
                "purchases": balance(platform, "platform", "cooperative.purchases"),
                **{name: balance(platform, f"user:{user.id}", "wallet") for name, (user, _h, _s) in members.items()}}

    async def snapshot():
        return {k: await v for k, v in books().items()}

    assert await snapshot() == {"pool": 140_000_00, "purchases": 200_000_00, "a": 20_000_00, "b": 0, "c": 0}
    mine = (await members["a"][1].get("/api/v1/cooperative/programs/flat/membership")).json()
    assert (mine["status"], mine["rank"], mine["obligation_minor"], mine["owed_minor"]) == ("allotted", 1, 80_000_00,
                                                                                            80_000_00)
    assert [(i["due_on"], i["amount_minor"]) for i in mine["instalments"]] == [
        ((valuation_date + dt.timedelta(days=30 * n)).isoformat(), 20_000_00) for n in range(1, 5)]

    # Valuating the same date again, through the service or the task, changes nothing.
    before = await snapshot()
    service = platform.service(CooperativeService)
    _stored, new = await service.valuate("flat", valuation_date)
    assert not new
    job = next(j for j in platform.tasks.close_of_day_jobs() if j.name == "cooperative.valuate")
    await job.fn(platform, valuation_date)
    assert await snapshot() == before and len(await service.valuations()) == 1

    # The allotted member repays an instalment from the wallet into the pool; no more contributions.
    repaid = await members["a"][1].post("/api/v1/cooperative/programs/flat/repayments",
                                        json={"amount": "20000", "idempotency_key": "inst-1"})
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["owed_minor"] == 60_000_00
    assert (await snapshot())["pool"] == 160_000_00
    too_much = await members["a"][1].post("/api/v1/cooperative/programs/flat/repayments",
                                          json={"amount": "60000.01", "idempotency_key": "inst-2"})
    assert too_much.status_code == 400 and "amount" in too_much.text and "60000.00" in too_much.text
    late = await members["a"][1].post("/api/v1/cooperative/programs/flat/contributions",
                                      json={"amount": "1", "idempotency_key": "late"})
    assert late.status_code == 409

    # Pages render: the public queue, my membership, the admin log.
    assert (await members["b"][1].get("/cooperative/flat")).status_code == 200
    page = await members["b"][1].get("/cooperative/flat/me")
    assert page.status_code == 200 and "16.533333" in page.text  # a day later: 160k × 31 / 300k
    log_page = await admin.get("/admin/cooperative/valuations")
    assert log_page.status_code == 200 and valuation_date.isoformat() in log_page.text
    assert (await admin.get("/admin/cooperative/programs")).status_code == 200
