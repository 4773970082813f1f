"""The customer's page and API, the reviewers' pages and API: CSRF, field errors, guards, IDOR, language."""

from __future__ import annotations

import re

from core.access.audit import AuditFilter, AuditLog
from core.access.testing import assert_admin_routes_guarded, assert_no_idor
from core.testing import app_client
from core.users.testing import make_user, sign_in
from plugins.kyc.records import State
from plugins.kyc.testing import GOOD, person, settle


def form(fields: dict[str, str], csrf: str) -> dict[str, str]:
    return {**fields, "csrf_token": csrf}


async def test_the_page_shows_the_form_of_the_enabled_checks(customer):
    page = await customer.get("/kyc")
    assert page.status_code == 200
    for name in ("last_name", "passport_number", "passport_issuer_code", "itn", "snils", "consent"):
        assert f'name="{name}"' in page.text
    assert "csrf_token" in page.text


async def test_anonymous_visitors_are_sent_to_sign_in(world):
    async with app_client(world.platform) as anonymous:
        page = await anonymous.get("/kyc")
        assert page.status_code in (302, 303) and page.headers["location"].startswith("/login")
        assert (await anonymous.get("/api/v1/kyc")).status_code == 401


async def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(world, customer):
    token = customer.headers.pop("x-csrf-token")
    refused = await customer.post("/kyc", data=person())
    assert refused.status_code == 403
    assert await world.kyc.store.current(customer.user.id) is None
    sent = await customer.post("/kyc", data=form(person(), token))
    assert sent.status_code == 303 and sent.headers["location"] == "/kyc?done=sent"
    assert (await world.kyc.status(customer.user.id)).state is State.CHECKING


async def test_mistakes_are_shown_next_to_their_fields_and_what_was_typed_is_kept(world, customer):
    token = customer.headers["x-csrf-token"]
    bad = person(last_name="Petrova", itn="123456789037", snils="112-233-445 96", passport_issued_on="2030-01-01")
    bad.pop("consent")
    page = await customer.post("/kyc", data=form(bad, token))
    assert page.status_code == 400
    errors = dict(re.findall(r'<p class="form-error" id="e-(\w+)">([^<]+)</p>', page.text))
    assert set(errors) == {"last_name", "itn", "snils", "passport_issued_on", "consent"}
    assert "Cyrillic" in errors["last_name"] and "check digits" in errors["snils"]
    assert 'value="Petrova"' in page.text and 'aria-invalid="true"' in page.text
    assert await world.kyc.store.current(customer.user.id) is None


async def test_the_page_speaks_russian(world):
    user = await make_user(world.platform, locale="ru")
    async with app_client(world.platform) as http:
        token = await sign_in(http, user.login)
        page = await http.post("/kyc", data=form(person(itn="123456789037"), token))
    assert page.status_code == 400
    assert "Подтверждение личности" in page.text and "Серия и номер" in page.text
    assert "неверный ИНН: проверьте цифры" in page.text


async def test_the_api_takes_json_and_names_wrong_fields(world, customer):
    status = (await customer.get("/api/v1/kyc")).json()
    assert status["state"] == "none" and status["documents"]["passport"]["required"]
    assert not status["documents"]["snils"]["required"]
    bad = await customer.post("/api/v1/kyc/submissions", json={**person(itn="1"), "consent": True})
    assert bad.status_code == 400 and bad.json()["errors"][0]["key"] == "itn"
    wrong_type = await customer.post("/api/v1/kyc/submissions", json={**person(), "consent": "yes please"})
    assert wrong_type.status_code == 400
    made = await customer.post("/api/v1/kyc/submissions", json={**person(), "consent": True})
    assert made.status_code == 201 and made.json()["state"] == "checking"
    await settle(world.kyc, made.json()["id"])
    mine = (await customer.get(f"/api/v1/kyc/submissions/{made.json()['id']}")).json()
    assert mine["state"] == "verified" and {c["status"] for c in mine["checks"]} == {"passed"}
    assert GOOD["itn"] not in str(mine)  # the API never echoes documents back
    assert [s["id"] for s in (await customer.get("/api/v1/kyc/submissions")).json()] == [made.json()["id"]]


async def test_nobody_sees_anothers_submission(world, customer):
    made = await customer.post("/api/v1/kyc/submissions", json={**person(), "consent": True})
    submission_id = made.json()["id"]
    intruder_user = await make_user(world.platform)
    async with app_client(world.platform) as intruder:
        await sign_in(intruder, intruder_user.login)
        found = await assert_no_idor(
            customer.app, owner=customer, intruder=intruder, ids={"submission_id": submission_id},
            snapshot=lambda: world.kyc.status(customer.user.id), leak_markers=[GOOD["last_name"]],
        )
        assert {c.template for c in found} == {"/api/v1/kyc/submissions/{submission_id:uuid}"}
        theirs = await intruder.get("/api/v1/kyc/submissions")
        assert submission_id not in theirs.text
        page = await intruder.get("/kyc")
        assert submission_id not in page.text and GOOD["last_name"] not in page.text


async def test_admin_routes_are_guarded(world, client_as):
    async with app_client(world.platform) as anonymous:
        customer = await client_as()  # signed in, no permissions
        cases = await assert_admin_routes_guarded(customer.app, customer=customer, anonymous=anonymous)
    assert any(c.template.startswith("/admin/kyc") for c in cases)
    assert any(c.template.startswith("/api/v1/admin/kyc") for c in cases)


async def test_reviewers_work_the_queue(world, client_as):
    user = await make_user(world.platform)
    submission = await world.kyc.submit(user.id, person(itn="500100732259"))
    await settle(world.kyc, submission.id)
    reviewer = await client_as("admin.access", "kyc.review")
    reviewer.headers["accept-language"] = "en"
    queue = await reviewer.get("/admin/kyc")
    assert queue.status_code == 200 and str(submission.id) in queue.text
    detail = await reviewer.get(f"/admin/kyc/submissions/{submission.id}")
    assert detail.status_code == 200 and GOOD["last_name"] in detail.text  # decrypted for the reviewer
    assert "another taxpayer number" in detail.text
    viewed = await world.platform.service(AuditLog).search(AuditFilter(action="kyc.submission_viewed"))
    assert viewed and viewed[0].actor_id == reviewer.identity.user_id
    # Approving against a failed check needs a note: the form comes back with the message at the field.
    no_reason = await reviewer.post(f"/admin/kyc/submissions/{submission.id}/approve", data={"reason": ""})
    assert no_reason.status_code == 400 and 'id="e-reason"' in no_reason.text
    rejected = await reviewer.post(f"/admin/kyc/submissions/{submission.id}/reject",
                                   data={"reason": "Wrong ITN: correct it"})
    assert rejected.status_code == 303
    assert (await world.kyc.status(user.id)).state is State.REJECTED
    api = await reviewer.get("/api/v1/admin/kyc/submissions?state=rejected")
    assert [i["id"] for i in api.json()["items"]] == [str(submission.id)]
    assert (await reviewer.get("/api/v1/admin/kyc/submissions?state=bogus")).status_code == 400
    assert (await reviewer.get("/api/v1/admin/kyc/submissions?after=nonsense")).status_code == 400
    again = await reviewer.post(f"/api/v1/admin/kyc/submissions/{submission.id}/recheck")
    assert again.status_code == 200 and again.json()["state"] == "checking" and again.json()["round"] == 2
    detail = (await reviewer.get(f"/api/v1/admin/kyc/submissions/{submission.id}")).json()
    assert detail["person"]["itn"] == "500100732259" and any(r["details"] for r in detail["results"])
    approve = await reviewer.post(f"/api/v1/admin/kyc/submissions/{submission.id}/approve",
                                  json={"reason": "Confirmed by a call"})
    assert approve.status_code == 200 and approve.json()["state"] == "verified"
    missing = await reviewer.post("/api/v1/admin/kyc/submissions/00000000-0000-4000-8000-000000000000/reject",
                                  json={"reason": "x"})
    assert missing.status_code == 404


async def test_reviewers_cannot_decide_on_their_own_documents(world, client_as):
    reviewer = await client_as("admin.access", "kyc.review")
    reviewer.headers["accept-language"] = "en"
    own = await world.kyc.submit(reviewer.identity.user_id, person())
    page = await reviewer.get(f"/admin/kyc/submissions/{own.id}")
    assert "another reviewer decides" in page.text
    refused = await reviewer.post(f"/api/v1/admin/kyc/submissions/{own.id}/approve", json={"reason": "me"})
    assert refused.status_code == 403
