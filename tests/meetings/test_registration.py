"""Registration by a code sent to the claim's contact and by a power of attorney the organizer reviews;
a representative votes on a settlement only with a power of attorney that says so; cancelling."""

from core.users.testing import latest_code
from tests.meetings.helpers import (
    NOW,
    STARTS,
    case_with_claims,
    creditor,
    draft_meeting,
    organizer,
    set_clock,
)
from tests.projects.helpers import PDF


async def test_code_and_power_of_attorney_registration(platform, client_as):
    admin = await organizer(platform, client_as)
    _bank, bank_http = await creditor(platform, client_as, "Bank clerk")
    _rep, rep_http = await creditor(platform, client_as, "Lawyer")
    case, (bank, supplier) = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal": "600000.00", "contact": "claims@bank.example"},
        {"creditor_name": "ООО «Поставщик»", "principal": "400000.00"},
    ])
    set_clock(platform, NOW)
    meeting, [settle] = await draft_meeting(admin, case["id"], [
        {"question": "Conclude the settlement agreement", "decision": "settlement", "form": "settlement"}])
    mid = meeting["id"]
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/convene", json={})).status_code == 200

    r = await bank_http.post(f"/api/v1/meetings/{mid}/registrations/code", json={"claim_id": bank["id"]})
    assert r.status_code == 201 and r.json()["sent_to"] != "claims@bank.example", r.text  # masked
    challenge = r.json()["challenge_id"]
    wrong = await bank_http.post(f"/api/v1/meetings/{mid}/registrations", json={
        "claim_id": bank["id"], "method": "code", "challenge_id": challenge, "code": "000000"})
    assert wrong.status_code == 422
    r = await bank_http.post(f"/api/v1/meetings/{mid}/registrations", json={
        "claim_id": bank["id"], "method": "code", "challenge_id": challenge,
        "code": await latest_code(platform, "claims@bank.example")})
    assert r.status_code == 201 and r.json()["method"] == "code", r.text
    no_contact = await rep_http.post(f"/api/v1/meetings/{mid}/registrations/code", json={"claim_id": supplier["id"]})
    assert no_contact.status_code == 409 and "power of attorney" in no_contact.json()["detail"]

    no_document = await rep_http.post(f"/api/v1/meetings/{mid}/registrations/request",
                                      data={"claim_id": supplier["id"], "method": "power_of_attorney"})
    assert no_document.status_code == 400 and no_document.json()["errors"][0]["key"] == "document"
    r = await rep_http.post(f"/api/v1/meetings/{mid}/registrations/request",
                            data={"claim_id": supplier["id"], "method": "power_of_attorney",
                                  "settlement_authority": "true"},
                            files={"document": ("poa.pdf", PDF, "application/pdf")})
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    participant = r.json()["id"]
    assert len(r.json()["poa_sha256"]) == 64 and "poa_key" not in r.json()
    # The organizer admits the representative, but not for a settlement (the document does not say so).
    review = f"/api/v1/admin/meetings/{mid}/participants/{participant}/review"
    assert (await admin.post(review, json={})).json()["errors"][0]["key"] == "admit"
    r = await admin.post(review, json={"admit": True, "settlement_authority": False, "note": "general authority"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["settlement_authority"]) == ("admitted", False)
    assert (await admin.post(review, json={"admit": False})).status_code == 409

    set_clock(platform, STARTS)
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/open", json={})).status_code == 200
    r = await rep_http.post(f"/api/v1/meetings/{mid}/ballots/code", json={
        "claim_id": supplier["id"], "choices": {settle["id"]: {"vote": "for"}}})
    assert r.status_code == 403 and "art. 150" in r.json()["detail"], r.text
    r = await bank_http.post(f"/api/v1/meetings/{mid}/ballots/code", json={
        "claim_id": bank["id"], "choices": {settle["id"]: {"vote": "for"}}})
    assert r.status_code == 201, r.text  # the creditor itself needs no special authority
    journal = (await admin.get(f"/api/v1/admin/meetings/{mid}")).json()["journal"]
    assert sorted((p["method"], p["status"]) for p in journal) == [("code", "admitted"),
                                                                  ("power_of_attorney", "admitted")]


async def test_a_convened_meeting_can_be_cancelled_but_not_an_open_one(platform, client_as):
    admin = await organizer(platform, client_as)
    case, _claims = await case_with_claims(admin, [{"creditor_name": "АО «Банк»", "principal": "1000.00"}])
    set_clock(platform, NOW)
    first, _items = await draft_meeting(admin, case["id"], [{"question": "Report", "decision": "general"}])
    second, _items = await draft_meeting(admin, case["id"], [{"question": "Report", "decision": "general"}])
    for meeting in (first, second):
        assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})).status_code == 200
    r = await admin.post(f"/api/v1/admin/meetings/{first['id']}/cancel", json={"reason": "the debtor paid"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    set_clock(platform, STARTS)
    assert (await admin.post(f"/api/v1/admin/meetings/{first['id']}/open", json={})).status_code == 409
    assert (await admin.post(f"/api/v1/admin/meetings/{second['id']}/open", json={})).status_code == 200
    assert (await admin.post(f"/api/v1/admin/meetings/{second['id']}/cancel", json={})).status_code == 409
