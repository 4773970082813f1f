"""Cumulative voting for the committee over HTTP, and the event chain catching an edited record."""

import pytest

from plugins.meetings import chain
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


async def test_committee_election_is_cumulative_and_the_chain_shows_tampering(platform, client_as):
    admin = await organizer(platform, client_as)
    people = [await creditor(platform, client_as, name) for name in ("Bank", "Supplier")]
    case, claims = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк»", "principal_minor": 600, "user_id": str(people[0][0].id)},
        {"creditor_name": "ООО «Поставщик»", "principal_minor": 400, "user_id": str(people[1][0].id)},
    ])
    set_clock(platform, NOW)
    meeting, [election] = await draft_meeting(admin, case["id"], [
        {"question": "Elect the creditors' committee", "decision": "committee_election", "form": "cumulative",
         "options": ["Антонов", "Борисова", "Васильев", "Григорьева"], "seats": 3}])
    mid = meeting["id"]
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/convene", json={})).status_code == 200
    set_clock(platform, STARTS)
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/open", json={})).status_code == 200
    for (_user, http), claim in zip(people, claims, strict=True):
        r = await http.post(f"/api/v1/meetings/{mid}/registrations", json={"claim_id": claim["id"]})
        assert r.status_code == 201, r.text

    too_many = await people[1][1].post(f"/api/v1/meetings/{mid}/ballots/code", json={
        "claim_id": claims[1]["id"], "choices": {election["id"]: {"allocation": {"0": 1000, "1": 201}}}})
    assert too_many.status_code == 400 and too_many.json()["errors"][0]["key"] == f"choices.{election['id']}.allocation"
    # The bank has 600 x 3 = 1800 votes, the supplier 1200: the supplier concentrates on one candidate.
    r = await vote(platform, people[0][1], mid, claims[0]["id"],
                   {election["id"]: {"allocation": {"0": 700, "1": 600, "2": 500}}})
    assert r.status_code == 201, r.text
    r = await vote(platform, people[1][1], mid, claims[1]["id"], {election["id"]: {"allocation": {"3": 1200}}})
    assert r.status_code == 201, r.text
    set_clock(platform, CLOSES)
    assert (await admin.post(f"/api/v1/admin/meetings/{mid}/close", json={})).status_code == 200
    result = (await admin.get(f"/api/v1/admin/meetings/{mid}")).json()["agenda"][0]["result"]
    assert (result["outcome"], result["options"], result["elected"]) == ("elected", [700, 600, 500, 1200], [0, 1, 3])

    meeting_id = (await platform.db.fetchval("SELECT id FROM meetings_meetings WHERE id::text = $1", mid))
    assert await chain.verify(platform.db, meeting_id) == []
    async with platform.db.transaction():
        with pytest.raises(Exception, match="append-only"):
            async with platform.db.transaction():
                await platform.db.execute("UPDATE meetings_events SET actor = 'x' WHERE meeting_id = $1", meeting_id)
    async with platform.db.transaction():  # someone with the database's owner rights goes around the trigger
        await platform.db.execute("SET LOCAL session_replication_role = replica")
        await platform.db.execute(
            """UPDATE meetings_events SET payload = jsonb_set(payload, '{choice}', '{"allocation": {"1": 1200}}')
               WHERE meeting_id = $1 AND kind = 'ballot' AND payload->>'claim' = $2""", meeting_id, claims[1]["id"])
        problems = await chain.verify(platform.db, meeting_id)
    assert len(problems) == 1 and "(ballot) was altered" in problems[0]
