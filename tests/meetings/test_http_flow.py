"""A whole meeting over HTTP: a case, three creditors with claims, notice, registration, weighted
voting with codes, the count, the protocol and its signature, and the audit chain."""

from core.users.testing import latest_code
from tests.meetings.helpers import (
    CLOSES,
    NOW,
    STARTS,
    case_with_claims,
    creditor,
    draft_meeting,
    organizer,
    set_clock,
    vote,
)


async def test_a_meeting_end_to_end_over_http(platform, client_as, client):
    admin = await organizer(platform, client_as)
    people = [await creditor(platform, client_as, name) for name in ("Bank", "Supplier", "Tax office")]
    case, claims = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal": "500000.00", "penalty": "70000.00", "user_id": str(people[0][0].id)},
        {"creditor_name": "ООО «Поставщик»", "principal": "300000.00", "user_id": str(people[1][0].id)},
        {"creditor_name": "ФНС России", "creditor_kind": "authority", "principal_minor": 200_000_00,
         "user_id": str(people[2][0].id)},
    ])
    assert [c["principal_minor"] for c in claims] == [500_000_00, 300_000_00, 200_000_00]
    set_clock(platform, NOW)
    meeting, items = await draft_meeting(admin, case["id"], [
        {"question": "Approve the interim manager's report", "decision": "general", "form": "yes_no"},
        {"question": "Petition the court to open bankruptcy liquidation", "decision": "procedure_choice"},
        {"question": "Where to hold the next meeting", "decision": "general", "form": "schedule",
         "options": ["Moscow, the manager's office", "Online only"]},
    ])
    mid = meeting["id"]
    assert (await people[0][1].get(f"/api/v1/meetings/{mid}")).status_code == 404  # a draft is the organizer's

    r = await admin.post(f"/api/v1/admin/meetings/{mid}/convene", json={})
    assert r.status_code == 200 and r.json()["status"] == "convened", r.text
    again = await admin.post(f"/api/v1/admin/meetings/{mid}/convene", json={})
    assert again.status_code == 409
    mine = (await people[0][1].get("/api/v1/meetings")).json()
    assert [m["id"] for m in mine] == [mid]

    # Registration: the first two with their own accounts, the tax office with a code sent to its claim's contact.
    for (_user, http), claim in zip(people[:2], claims[:2], strict=True):
        r = await http.post(f"/api/v1/meetings/{mid}/registrations", json={"claim_id": claim["id"]})
        assert r.status_code == 201 and r.json()["status"] == "admitted", r.text
    stranger = await client_as(user_id=people[2][0].id)
    r = await stranger.post(f"/api/v1/meetings/{mid}/registrations", json={"claim_id": claims[0]["id"]})
    assert r.status_code == 403, r.text  # not this creditor's account
    r = await people[2][1].post(f"/api/v1/meetings/{mid}/registrations", json={"claim_id": claims[2]["id"]})
    assert r.status_code == 201, r.text

    r = await people[0][1].post(f"/api/v1/meetings/{mid}/ballots/code",
                                json={"claim_id": claims[0]["id"], "choices": {items[0]["id"]: {"vote": "for"}}})
    assert r.status_code == 409 and "not open" in r.json()["detail"], r.text

    set_clock(platform, STARTS)
    r = await admin.post(f"/api/v1/admin/meetings/{mid}/open", json={})
    assert r.status_code == 200 and r.json()["status"] == "open", r.text

    answers = [
        {items[0]["id"]: {"vote": "for"}, items[1]["id"]: {"vote": "for"}, items[2]["id"]: {"option": 1}},
        {items[0]["id"]: {"vote": "against", "opinion": "The report omits the sale of the warehouse."},
         items[1]["id"]: {"vote": "against"}, items[2]["id"]: {"option": 0}},
        {items[0]["id"]: {"vote": "for"}, items[1]["id"]: {"vote": "abstain"}, items[2]["id"]: {"option": 1}},
    ]
    for (_user, http), claim, choices in zip(people, claims, answers, strict=True):
        r = await vote(platform, http, mid, claim["id"], choices)
        assert r.status_code == 201 and len(r.json()) == 3, r.text
    twice = await people[0][1].post(f"/api/v1/meetings/{mid}/ballots/code", json={
        "claim_id": claims[0]["id"], "choices": {items[0]["id"]: {"vote": "against"}}})
    assert twice.status_code == 409 and "already voted" in twice.json()["detail"]  # a ballot is never changed

    for http, path in ((people[0][1], f"/meetings/{mid}"), (admin, f"/admin/meetings/{mid}")):
        page = await http.get(path)  # while voting: the ballot form, the journal, the running count
        assert page.status_code == 200 and "ООО «Поставщик»" in page.text, path
    live = (await people[0][1].get(f"/api/v1/meetings/{mid}")).json()
    assert live["quorum"]["reached"] and live["quorum"]["present_weight"] == 1_000_000_00

    set_clock(platform, CLOSES)
    r = await admin.post(f"/api/v1/admin/meetings/{mid}/close", json={})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text

    view = (await admin.get(f"/api/v1/admin/meetings/{mid}")).json()
    report, procedure, place = (item["result"] for item in view["agenda"])
    # Present base: 700 000 of 1 000 000 for: adopted.
    assert (report["outcome"], report["votes_for"], report["against"]) == ("adopted", 700_000_00, 300_000_00)
    # Total base: exactly half is not "more than half" (art. 15 p.2): rejected.
    assert (procedure["outcome"], procedure["votes_for"], procedure["base_weight"]) == (
        "rejected", 500_000_00, 1_000_000_00)
    assert (place["outcome"], place["options"], place["decided_option"]) == ("adopted", [300_000_00, 700_000_00], 1)
    assert view["protocol"]["sha256"] and view["quorum"]["reached"]

    pdf = await people[1][1].get(f"/meetings/{mid}/protocol.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    r = await people[1][1].post(f"/api/v1/meetings/{mid}/protocol/signature-code", json={})
    assert r.status_code == 201, r.text
    challenge = r.json()["challenge_id"]
    wrong = await people[1][1].post(f"/api/v1/meetings/{mid}/protocol/signatures",
                                    json={"challenge_id": challenge, "code": "000000"})
    assert wrong.status_code == 422, wrong.text
    code = await latest_code(platform, people[1][0].login)
    r = await people[1][1].post(f"/api/v1/meetings/{mid}/protocol/signatures",
                                json={"challenge_id": challenge, "code": code})
    assert r.status_code == 201 and r.json()["role"] == "participant", r.text

    events = (await admin.get(f"/api/v1/admin/meetings/{mid}/events")).json()
    kinds = [e["kind"] for e in events["events"]]
    assert events["problems"] == []
    assert kinds[:2] == ["created", "convened"] and kinds.count("ballot") == 9
    assert kinds[-3:] == ["closed", "protocol", "signed"]

    # Pages render for the organizer and for a creditor; other people's meetings are not found.
    for path in ("/admin/meetings", f"/admin/meetings/cases/{case['id']}", f"/admin/meetings/{mid}"):
        assert (await admin.get(path)).status_code == 200, path
    for path in ("/meetings", f"/meetings/{mid}", f"/meetings/{mid}/room"):
        assert (await people[0][1].get(path)).status_code == 200, path
    assert (await people[0][1].get(f"/api/v1/admin/meetings/{mid}")).status_code == 403
    other_organizer = await organizer(platform, client_as)
    assert (await other_organizer.get(f"/api/v1/admin/meetings/{mid}")).status_code == 404
    assert (await client.get(f"/api/v1/meetings/{mid}")).status_code == 401
