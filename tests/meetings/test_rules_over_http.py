"""Weighted quorum and majorities as a meeting meets them, and bad input refused with the field named."""

import datetime as dt

from tests.meetings.helpers import CLOSES, NOW, STARTS, case_with_claims, draft_meeting, organizer, set_clock


def field_of(response):
    assert response.status_code == 400, response.text
    return response.json()["errors"][0]["key"]


async def absentee(admin, case_id, items):
    meeting, added = await draft_meeting(admin, case_id, items, form="absentee")
    assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})).status_code == 200
    return meeting, added


async def paper(admin, meeting_id, claim_id, choices, received):
    return await admin.post(f"/api/v1/admin/meetings/{meeting_id}/paper-ballots", json={
        "claim_id": claim_id, "choices": choices, "received_at": received.isoformat()})


async def test_quorum_is_weighted_and_secured_creditors_decide_a_settlement(platform, client_as, jobs):
    admin = await organizer(platform, client_as)
    # Bankruptcy liquidation: the secured bank does not vote (except on a settlement); the late claim never does.
    case, (bank, supplier, landlord, late) = await case_with_claims(admin, [
        {"creditor_name": "АО «Банк» (залог)", "principal": "600000.00", "secured": "600000.00"},
        {"creditor_name": "ООО «Поставщик»", "principal": "300000.00"},
        {"creditor_name": "ИП Арендодатель", "principal": "250000.00"},
        {"creditor_name": "ООО «Опоздавший»", "principal": "150000.00", "late": True},
    ], stage="liquidation")
    set_clock(platform, NOW)
    first, [report] = await absentee(admin, case["id"], [{"question": "The manager's report", "decision": "general"}])
    second, [settle] = await absentee(admin, case["id"], [
        {"question": "Conclude the settlement agreement", "decision": "settlement", "form": "settlement"}])
    view = (await admin.get(f"/api/v1/admin/meetings/{first['id']}")).json()
    assert {b["creditor_name"]: b["weight_minor"] for b in view["vote_base"]} == {
        "АО «Банк» (залог)": 0, "ООО «Поставщик»": 300_000_00, "ИП Арендодатель": 250_000_00, "ООО «Опоздавший»": 0}

    set_clock(platform, STARTS)
    assert (await jobs.run_now("meetings.run_due"))["opened"] == 2
    on_time, after = STARTS + dt.timedelta(minutes=5), CLOSES + dt.timedelta(minutes=1)
    # First meeting: 250 000 of 550 000 came in time (45 %); the supplier's ballot came late and is not counted.
    assert (await paper(admin, first["id"], landlord["id"], {report["id"]: {"vote": "for"}}, on_time)).status_code == 201
    r = await paper(admin, first["id"], supplier["id"], {report["id"]: {"vote": "for"}}, after)
    assert r.status_code == 201 and r.json()[0]["late"], r.text
    r = await paper(admin, first["id"], late["id"], {report["id"]: {"vote": "for"}}, on_time)
    assert r.status_code == 409, r.text  # a late claim has no votes
    # Second: 300 000 + 250 000 for (100 % of the votes), but the secured bank says no.
    for claim in (supplier, landlord):
        assert (await paper(admin, second["id"], claim["id"], {settle["id"]: {"vote": "for"}},
                            on_time)).status_code == 201
    assert (await paper(admin, second["id"], bank["id"], {settle["id"]: {"vote": "against"}},
                        on_time)).status_code == 201
    both_ticked = await paper(admin, second["id"], late["id"], {settle["id"]: {"invalid": True}}, on_time)
    assert both_ticked.status_code == 409

    early = await admin.post(f"/api/v1/admin/meetings/{first['id']}/close", json={})
    assert early.status_code == 409 and "absentee" in early.json()["detail"]
    set_clock(platform, CLOSES)
    done = await jobs.run_now("meetings.run_due")
    assert (done["closed"], done["protocols"]) == (2, 2)

    first_view = (await admin.get(f"/api/v1/admin/meetings/{first['id']}")).json()
    assert first_view["meeting"]["status"] == "not_held"
    assert first_view["meeting"]["quorum"] == {"present_weight": 250_000_00, "notified_weight": 550_000_00,
                                               "total_weight": 550_000_00, "reached": False, "share": "5/11"}
    assert first_view["agenda"][0]["result"]["outcome"] == "no_quorum"
    second_view = (await admin.get(f"/api/v1/admin/meetings/{second['id']}")).json()
    result = second_view["agenda"][0]["result"]
    assert second_view["meeting"]["status"] == "closed"
    assert (result["outcome"], result["votes_for"], result["base_weight"], result["secured_unanimity"]) == (
        "rejected", 550_000_00, 550_000_00, False)
    assert result["secured_missing"] == [bank["id"]]
    assert second_view["protocol"]["size"] > 1000


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(platform, client_as):
    admin = await organizer(platform, client_as)
    r = await admin.post("/api/v1/admin/meetings/cases", json={
        "number": "А40-7/2026", "debtor_name": "ООО «Ромашка»", "stage": "observation", "debtor_itn": "7707083890"})
    assert field_of(r) == "debtor_itn"
    assert field_of(await admin.post("/api/v1/admin/meetings/cases", json={
        "number": "А40-7/2026", "debtor_name": "X", "stage": "bankrupt"})) == "stage"
    case, [claim] = await case_with_claims(admin, [{"creditor_name": "АО «Банк»", "principal": "1000.00"}])
    claims_url = f"/api/v1/admin/meetings/cases/{case['id']}/claims"
    assert field_of(await admin.post(claims_url, json={"creditor_name": "A", "principal": "12.345"})) == "principal"
    assert field_of(await admin.post(claims_url, json={"creditor_name": "A", "principal": "-5"})) == "principal"
    assert field_of(await admin.post(claims_url, json={"creditor_name": "A", "principal": "10",
                                                       "secured": "11"})) == "secured_minor"
    assert field_of(await admin.post(claims_url, json={"creditor_name": "", "principal": "10"})) == "creditor_name"
    assert field_of(await admin.post(claims_url, json={"creditor_name": "A", "principal": "10",
                                                       "contact": "not an address"})) == "contact"
    assert field_of(await admin.post(claims_url, content=b"[1, 2]",
                                     headers={"content-type": "application/json"})) == "body"
    assert len((await admin.get(f"/api/v1/admin/meetings/cases/{case['id']}")).json()["claims"]) == 1

    meetings_url = f"/api/v1/admin/meetings/cases/{case['id']}/meetings"
    good = {"title": "Meeting", "form": "in_person", "starts_at": STARTS.isoformat(),
            "closes_at": CLOSES.isoformat(), "notice_method": "electronic"}
    assert field_of(await admin.post(meetings_url, json={**good, "starts_at": "2026-12-17T10:00:00"})) == "starts_at"
    assert field_of(await admin.post(meetings_url, json={**good, "closes_at": NOW.isoformat()})) == "closes_at"
    assert field_of(await admin.post(meetings_url, json={**good, "form": "by pigeon"})) == "form"
    assert field_of(await admin.post(meetings_url, json={**good, "notice_method": "rumour"})) == "notice_method"
    set_clock(platform, NOW)
    meeting, [item] = await draft_meeting(admin, case["id"], [{"question": "Report", "decision": "general"}])
    items_url = f"/api/v1/admin/meetings/{meeting['id']}/items"
    assert field_of(await admin.post(items_url, json={"question": "Q", "decision": "coup"})) == "decision"
    assert field_of(await admin.post(items_url, json={"question": "", "decision": "general"})) == "question"
    assert field_of(await admin.post(items_url, json={"question": "Q", "decision": "committee_election",
                                                      "form": "cumulative", "options": ["A", "B"]})) == "seats"
    assert field_of(await admin.post(items_url, json={"question": "Q", "decision": "general", "form": "schedule",
                                                      "options": ["Only one"]})) == "options"
    assert field_of(await admin.post(items_url, json={"question": "Q", "decision": "general",
                                                      "form": "number", "min": "9", "max": "3"})) == "max"
    assert field_of(await admin.post(items_url, json={"question": "Q", "decision": "restructuring_plan"})) == "decision"

    # The notice must go out 5 working days ahead: convening on the day before the meeting is refused.
    set_clock(platform, STARTS - dt.timedelta(days=1))
    late = await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})
    assert late.status_code == 409 and "art. 13" in late.json()["detail"]
    set_clock(platform, NOW)
    assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/convene", json={})).status_code == 200
    set_clock(platform, STARTS)
    assert (await admin.post(f"/api/v1/admin/meetings/{meeting['id']}/open", json={})).status_code == 200
    ballots = f"/api/v1/admin/meetings/{meeting['id']}/paper-ballots"
    at = STARTS.isoformat()
    assert field_of(await admin.post(ballots, json={"choices": {item["id"]: {"vote": "for"}},
                                                    "received_at": at})) == "claim_id"
    assert field_of(await admin.post(ballots, json={"claim_id": claim["id"], "choices": {item["id"]: {"vote": "yes"}},
                                                    "received_at": at})) == f"choices.{item['id']}.vote"
    assert field_of(await admin.post(ballots, json={"claim_id": claim["id"], "choices": {"nope": {"vote": "for"}},
                                                    "received_at": at})) == "choices.nope"
    assert field_of(await admin.post(ballots, json={"claim_id": claim["id"], "choices": "for",
                                                    "received_at": at})) == "choices"
    assert field_of(await admin.post(ballots, json={"claim_id": "x", "choices": {}, "received_at": at})) == "claim_id"
    view = (await admin.get(f"/api/v1/admin/meetings/{meeting['id']}")).json()
    assert view["ballots"] == [] and view["meeting"]["last_seq"] == 3  # created, convened, opened: nothing else
