"""A creditor votes through the pages, as a browser does: forms, redirects, the code form."""

from urllib.parse import parse_qs, urlsplit

from core.users.testing import latest_code, make_user, sign_in
from tests.meetings.helpers import NOW, STARTS, case_with_claims, draft_meeting, organizer, set_clock


async def test_registering_and_voting_through_the_pages(platform, client_as, client):
    admin = await organizer(platform, client_as)
    user = await make_user(platform, display_name="Bank")
    case, [claim] = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal": "500000.00", "user_id": str(user.id)}])
    set_clock(platform, NOW)
    meeting, [report, place] = await draft_meeting(admin, case["id"], [
        {"question": "Approve the report", "decision": "general"},
        {"question": "Next meeting", "decision": "general", "form": "schedule", "options": ["Moscow", "Online"]}])
    mid = meeting["id"]
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/convene", json={})).status_code == 200
    set_clock(platform, STARTS)
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/open", json={})).status_code == 200

    await sign_in(client, user.login)
    r = await client.post(f"/meetings/{mid}/registrations", data={"claim_id": claim["id"]})
    assert r.status_code == 303 and r.headers["location"].endswith("done=registered"), r.text
    page = await client.get(r.headers["location"])
    assert f'name="vote.{report["id"]}"' in page.text and "option:1" in page.text

    r = await client.post(f"/meetings/{mid}/ballots/code", data={
        "claim_id": claim["id"], f"vote.{report['id']}": "for", f"vote.{place['id']}": "option:1",
        f"opinion.{report['id']}": "Agreed, with a remark on the warehouse."})
    assert r.status_code == 303, r.text
    query = parse_qs(urlsplit(r.headers["location"]).query)
    page = await client.get(r.headers["location"])
    assert 'name="challenge_id"' in page.text and page.status_code == 200
    r = await client.post(f"/meetings/{mid}/ballots", data={
        "claim_id": query["claim"][0], "choices": query["choices"][0], "challenge_id": query["ballot_challenge"][0],
        "code": await latest_code(platform, user.login)})
    assert r.status_code == 303 and r.headers["location"].endswith("done=voted"), r.text
    ballots = (await client.get(f"/api/v1/meetings/{mid}")).json()["ballots"]
    assert {b["item_id"]: (b["choice"], b["opinion"]) for b in ballots} == {
        report["id"]: ({"vote": "for"}, "Agreed, with a remark on the warehouse."), place["id"]: ({"option": 1}, "")}
