"""Odd values in every field of the lending API are a 4xx (or a success), never a 5xx."""

import itertools

from core.users.testing import make_user
from tests.lending.helpers import lending_with_fund

ODD = [None, "", " ", "1e999", "NaN", "-Infinity", -1, 0, 1.5, "10000", [], {}, "٣٠", "1_000", 10**30, True,
       "\x00", "' OR 1=1 --", "9" * 400]


async def test_odd_values_never_cause_a_server_error(platform, client_as):
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    loan = await service._disburse((await service.apply(user.id, 5_000_00, 10))["id"])
    http = await client_as(user_id=user.id)
    admin = await client_as("lending.products", "lending.view", "lending.decide")
    failures = []

    def check(response, what):
        if response.status_code >= 500:
            failures.append((what, response.status_code, response.text[:200]))

    for amount, term in itertools.product(ODD, [None, "x", 0, 10, 10**30, "7.5", []]):
        query = {k: str(v) for k, v in (("amount", amount), ("term_days", term)) if v is not None}
        check(await http.get("/api/v1/lending/calculate", params=query), ("calculate", amount, term))
    for value in ODD:
        for field in ("amount", "term_days", "product", "idempotency_key", "birth_date", "last_name"):
            body = {"amount": "5000", "term_days": 10, field: value}
            check(await http.post("/api/v1/lending/applications", json=body), ("apply", field, value))
        for field in ("amount", "idempotency_key", "full"):
            body = {"amount": "1", "idempotency_key": "odd", field: value}
            check(await http.post(f"/api/v1/lending/loans/{loan['id']}/repay", json=body), ("repay", field, value))
        check(await http.post(f"/api/v1/lending/loans/{loan['id']}/extend", json={"idempotency_key": value}),
              ("extend", value))
        check(await http.post(f"/api/v1/lending/applications/{loan['application_id']}/sign", json={"code": value}),
              ("sign", value))
        for field in ("daily_rate", "min_amount", "max_term_days", "code", "audience", "active", "period_days"):
            body = {"code": "odd", "name": "Odd", "min_amount": "1000", "max_amount": "2000", "min_term_days": 7,
                    "max_term_days": 10, "daily_rate": "0.001", field: value}
            check(await admin.post("/api/v1/admin/lending/products", json=body), ("product", field, value))
        check(await admin.get("/api/v1/admin/lending/loans", params={"status": str(value)}), ("loans", value))
    for body in (b"[]", b"not json", b"{", b'"text"', b"null"):
        check(await http.post("/api/v1/lending/applications", content=body,
                              headers={"content-type": "application/json"}), ("raw", body))
    assert not failures, failures[:10]
