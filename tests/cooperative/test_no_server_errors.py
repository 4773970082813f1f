"""Odd values in every field of the cooperative's API are a 4xx (or a success), never a 5xx."""

from core.users.testing import make_user
from tests.cooperative.helpers import PROGRAM, top_up

ODD = [None, "", " ", "1e999", "NaN", "-Infinity", -1, 0, 1.5, "150000", [], {}, "٣٠", "1_000", 10**30, True,
       "\x00", "' OR 1=1 --", "9" * 400]


async def test_odd_values_never_cause_a_server_error(platform, client_as):
    admin = await client_as("cooperative.manage")
    assert (await admin.post("/api/v1/admin/cooperative/programs", json=PROGRAM)).status_code == 201
    user = await make_user(platform)
    await top_up(platform, user.id, 10_000_00)
    http = await client_as(user_id=user.id)
    base = "/api/v1/cooperative/programs/flat"
    failures = []

    def check(response, what):
        if response.status_code >= 500:
            failures.append((what, response.status_code, response.text[:200]))

    for value in ODD:
        check(await http.post(f"{base}/members", json={"target": value}), ("join", value))
    assert (await http.post(f"{base}/members", json={"target": "150000"})).status_code == 201
    for value in ODD:
        for field in ("amount", "idempotency_key"):
            body = {"amount": "1", "idempotency_key": f"odd-{field}", field: value}
            check(await http.post(f"{base}/contributions", json=body), ("contribute", field, value))
            check(await http.post(f"{base}/repayments", json=body), ("repay", field, value))
        for field in ("code", "name", "min_target", "max_target", "min_share", "reserve_ratio", "min_membership_days",
                      "strict_queue", "valuation_day", "instalment_count", "instalment_days"):
            check(await admin.post("/api/v1/admin/cooperative/programs", json={**PROGRAM, "code": "odd", field: value}),
                  ("program", field, value))
    for path in ("/cooperative/%00", "/cooperative/" + "x" * 300, "/api/v1/cooperative/programs/' OR 1=1"):
        check(await http.get(path), ("get", path))
    for body in (b"[]", b"not json", b"{", b'"text"', b"null"):
        check(await http.post(f"{base}/contributions", content=body, headers={"content-type": "application/json"}),
              ("raw", body))
    assert not failures, failures[:10]
