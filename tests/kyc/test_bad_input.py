"""Bad input to every kyc route: a 4xx whose body names the field, and nothing stored."""

from __future__ import annotations

import pytest

from core.users.testing import make_user
from plugins.kyc.testing import person, settle

SUBMIT = "/api/v1/kyc/submissions"


def named(response, field: str) -> bool:
    """The error names ``field``: one of its ``errors`` is keyed by it, or its message starts with it."""
    body = response.json()
    return field in {e.get("key") for e in body.get("errors", [])} or body["detail"].startswith(f"{field}:")


@pytest.mark.parametrize(("body", "field"), [
    ({**person(), "consent": True, "last_name": 5}, "last_name"),
    ({**person(), "consent": True, "itn": ["7701"]}, "itn"),
    ({**person(), "consent": True, "birth_date": "31.02.1990"}, "birth_date"),
    ({**person(), "consent": True, "passport_number": "40 20 65432X"}, "passport_number"),
    ({**person(), "consent": True, "snils": "112-233-445 00"}, "snils"),
    ({**person(), "consent": True, "passport_issuer": "x" * 301}, "passport_issuer"),
    ({**person(), "consent": False}, "consent"),
    ({k: v for k, v in person().items() if k != "first_name"} | {"consent": True}, "first_name"),
])
async def test_the_submission_api_names_the_wrong_field(world, customer, body, field):
    response = await customer.post(SUBMIT, json=body)
    assert response.status_code in (400, 422), response.text
    assert named(response, field), response.text
    assert (await customer.get(SUBMIT)).json() == []


async def test_a_body_that_is_not_json_is_a_400(customer):
    response = await customer.post(SUBMIT, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    response = await customer.post(SUBMIT, json=[1, 2])
    assert response.status_code == 400, response.text


async def test_the_form_names_the_wrong_field(customer):
    csrf = customer.cookies.get("csrf_token") or ""
    page = await customer.post("/kyc", data={**person(itn="12ab"), "consent": "1", "csrf_token": csrf})
    assert page.status_code == 400 and 'id="e-itn"' in page.text


async def test_unknown_ids_are_404(customer, client_as):
    assert (await customer.get(f"{SUBMIT}/not-a-uuid")).status_code == 404
    reviewer = await client_as("admin.access", "kyc.review")
    assert (await reviewer.get("/api/v1/admin/kyc/submissions/00000000-0000-4000-8000-000000000000")).status_code == 404


async def test_the_reviewers_api_names_the_wrong_field(world, client_as):
    user = await make_user(world.platform)
    submission = await world.kyc.submit(user.id, person(itn="500100732259"))
    await settle(world.kyc, submission.id)
    reviewer = await client_as("admin.access", "kyc.review")
    for query, field in (("state=bogus", "state"), ("state=superseded", "state"), ("after=nonsense", "after")):
        response = await reviewer.get(f"/api/v1/admin/kyc/submissions?{query}")
        assert response.status_code == 400 and named(response, field), (query, response.text)
    base = f"/api/v1/admin/kyc/submissions/{submission.id}"
    wrong_type = await reviewer.post(f"{base}/reject", json={"reason": 5})
    assert wrong_type.status_code == 400 and named(wrong_type, "reason"), wrong_type.text
    too_long = await reviewer.post(f"{base}/reject", json={"reason": "x" * 1001})
    assert too_long.status_code == 400 and named(too_long, "reason"), too_long.text
    no_reason = await reviewer.post(f"{base}/approve", json={})  # a check failed: a note is needed
    assert no_reason.status_code == 400 and named(no_reason, "reason"), no_reason.text
    not_json = await reviewer.post(f"{base}/reject", content=b"nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400, not_json.text
    assert (await world.kyc.status(user.id)).state.value == "review"
