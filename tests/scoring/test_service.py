"""The scoring service: inquiries kept and cached, pending answers polled, decisions by the policy."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from core.contracts.scoring import ScoringStatus
from core.money import Money
from core.testing import JobsHelper
from plugins.scoring.emulation import NOBODY, TEST_PERSONS, Mode
from plugins.scoring.service import InvalidInquiry, RequestIdConflict
from tests.scoring.conftest import PLUGINS

APPLICANT = TEST_PERSONS[0].applicant


async def test_an_inquiry_is_stored_encrypted_and_asking_again_never_pays_twice(world):
    scoring = world.scoring
    inquiry = await scoring.inquire("ubki", world.request("loan:1"), reference="loan:1")
    assert inquiry.status == "done" and inquiry.result.score is not None
    again = await scoring.inquire("ubki", world.request("loan:1"), reference="loan:1")
    assert again.id == inquiry.id and world.emulator("ubki").count("report") == 1

    row = await world.platform.db.fetchrow("SELECT applicant_enc FROM scoring_inquiries WHERE id = $1", inquiry.id)
    assert APPLICANT.last_name.encode() not in bytes(row["applicant_enc"])
    full = await scoring.get(inquiry.id, with_personal=True)
    assert full.applicant == APPLICANT and full.history[-1].report.document

    with pytest.raises(RequestIdConflict):
        await scoring.inquire("ubki", world.request("loan:1", person=1))


async def test_a_fresh_report_about_the_same_person_is_reused(world):
    first = await world.scoring.inquire("mbki", world.request("a"))
    second = await world.scoring.inquire("mbki", world.request("b"))
    assert second.cached_from == first.id and second.result.source == "cache"
    assert second.result.score == first.result.score
    assert world.emulator("mbki").count("GetReport") == 1


async def test_the_cache_can_be_turned_off(make_world):
    world = await make_world(cache_days=0)
    await world.scoring.inquire("mbki", world.request("a"))
    second = await world.scoring.inquire("mbki", world.request("b"))
    assert second.cached_from is None and world.emulator("mbki").count("GetReport") == 2


async def test_bad_input_names_the_field_and_stores_nothing(world):
    with pytest.raises(InvalidInquiry) as refused:
        await world.scoring.inquire("ubki", world.request("x", consent_ref=" "))
    assert refused.value.field == "consent_ref"
    with pytest.raises(InvalidInquiry) as refused:
        await world.scoring.inquire("nobody", world.request("x"))
    assert refused.value.field == "provider"
    assert await world.platform.db.fetchval("SELECT count(*) FROM scoring_inquiries") == 0


async def test_a_pending_answer_is_polled_and_announced(world):
    inquiry = await world.scoring.inquire("scorista", world.request("loan:2"), reference="loan:2")
    assert inquiry.status == "pending" and world.listener.completed == []
    assert await world.scoring.poll_due() == 1  # the emulator says WAIT once
    assert (await world.scoring.get(inquiry.id)).status == "pending" and world.listener.completed == []
    assert await JobsHelper(world.platform).run_now("scoring.poll") == 1  # the scheduled task
    done = await world.scoring.get(inquiry.id)
    assert done.status == "done" and done.result.source == "poll" and done.result.decision == "approve"
    assert [i.id for i in world.listener.completed] == [inquiry.id]
    assert await world.scoring.poll_due() == 0


async def test_a_retryable_error_is_asked_again_with_the_same_request_id(world):
    world.emulator("ubki").set_modes([Mode.DOWN])
    failed = await world.scoring.inquire("ubki", world.request("loan:3"))
    assert failed.status == "error" and failed.result.retryable
    world.emulator("ubki").set_modes([])
    again = await world.scoring.inquire("ubki", world.request("loan:3"))
    assert again.id == failed.id and again.status == "done" and again.result.attempt == 2


async def test_an_assessment_decides_from_every_provider_of_the_policy(make_world):
    world = await make_world(policy={"providers": {"ubki": {"approve_from": 150, "decline_below": 80},
                                                   "mbki": {"approve_from": 500, "decline_below": 400}}})
    good = await world.scoring.assess("app:1", APPLICANT, consent_ref="c", amount=Money.of("1000", "UAH"),
                                      term_days=30)
    assert good.outcome == "approve" and good.score is not None and good.decision_id
    assert [i.provider for i in good.inquiries] == ["ubki", "mbki"]
    bad = await world.scoring.assess("app:2", TEST_PERSONS[3].applicant, consent_ref="c")
    assert bad.outcome == "decline" and bad.reject_reasons
    assert {r.code for r in bad.reject_reasons} == {"score_low"}
    # deciding again from what is stored asks no one and records the same decision
    calls = len(world.emulator("ubki").calls)
    assert (await world.scoring.assessment("app:2")).decision_id == bad.decision_id
    assert len(world.emulator("ubki").calls) == calls


async def test_fallback_asks_the_next_provider_only_when_one_fails(make_world):
    world = await make_world(policy={"fallback": True, "providers": {
        "ubki": {"approve_from": 150}, "mbki": {"approve_from": 500}}})
    answered = await world.scoring.assess("app:3", APPLICANT, consent_ref="c")
    assert [i.provider for i in answered.inquiries] == ["ubki"] and answered.outcome == "approve"
    world.emulator("ubki").set_modes([Mode.DOWN])
    fell_back = await world.scoring.assess("app:4", TEST_PERSONS[1].applicant, consent_ref="c")
    assert [i.provider for i in fell_back.inquiries] == ["ubki", "mbki"]
    assert [r.provider for r in fell_back.reasons] == ["mbki"]


async def test_fallback_goes_on_when_a_pending_provider_finally_fails(make_world):
    world = await make_world(give_up_after_hours=0.0001, policy={"fallback": True, "providers": {
        "scorista": {}, "ubki": {"approve_from": 150}}})
    world.emulator("scorista").waits = -1  # never answers
    started = await world.scoring.assess("app:5", APPLICANT, consent_ref="c", amount=Money.of("900", "UAH"),
                                         term_days=14)
    assert started.pending and [i.provider for i in started.inquiries] == ["scorista"]
    world.scoring.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    await world.scoring.poll_due()
    decided = await world.scoring.assessment("app:5")
    assert decided.outcome == "approve" and [i.provider for i in decided.inquiries] == ["scorista", "ubki"]


async def test_unknown_people_and_provider_crashes_are_answers(world):
    nobody = await world.scoring.inquire("ubki", world.request("n", applicant=NOBODY))
    assert nobody.result.status is ScoringStatus.NO_DATA

    async def broken(request):
        raise RuntimeError("bug")

    world.platform.registry("scoring_providers").get("mbki").score = broken
    crashed = await world.scoring.inquire("mbki", world.request("c"))
    assert crashed.result.error_code == "provider_crashed"


async def test_the_same_request_at_once_asks_the_provider_once(make_world, committed_db):
    world = await make_world(database=committed_db)
    both = await asyncio.gather(*(world.scoring.inquire("ubki", world.request("race")) for _ in range(2)))
    assert both[0].id == both[1].id
    assert world.emulator("ubki").count("report") == 1


async def test_a_call_that_never_came_back_is_made_again_by_the_polling_task(world, monkeypatch):
    async def process_stopped(inquiry_id, provider, call, **kwargs):
        call.close()  # the provider was called, and the process died before the answer was recorded

    with monkeypatch.context() as patch:
        patch.setattr(world.scoring, "_ask", process_stopped)
        lost = await world.scoring.inquire("ubki", world.request("lost"))
    assert lost.status == "in_progress" and await world.scoring.poll_due() == 0  # still within the lease
    world.scoring.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert await world.scoring.poll_due() == 1
    found = await world.scoring.get(lost.id)
    assert found.status == "done" and found.result.source == "poll"


async def test_personal_data_survives_key_rotation_and_reindexing(make_world):
    from core.access.pii import generate_key
    from core.access.pii_rotation import reindex, rotate

    k1, k2 = generate_key(), generate_key()
    old = await make_world(access={"pii_keys": {"k1": k1}, "blind_index_key": generate_key()})
    first = await old.scoring.inquire("mbki", old.request("rotate"))
    new = await make_world(access={"pii_keys": {"k1": k1, "k2": k2}, "pii_active_key": "k2",
                                   "blind_index_key": generate_key()})
    assert {r.field: r.rotated for r in await rotate(new.platform)}["scoring_inquiries.applicant_enc"] == 1
    await reindex(new.platform)
    assert (await new.scoring.get(first.id, with_personal=True)).applicant == APPLICANT
    assert (await new.scoring.inquire("mbki", new.request("again"))).cached_from == first.id


async def test_an_applicant_from_a_platform_user(make_world):
    from core.users.service import Users
    from core.users.testing import make_user

    world = await make_world(plugins=["core.users", *PLUGINS])
    person = TEST_PERSONS[1]
    user = await make_user(world.platform, person.phone)
    # core.users keeps Russian INNs and passports: the Russian scoring service is the one to ask
    await world.platform.service(Users).set_personal_data(user.id, itn="500100732259", passport="4510 123456")
    applicant = await world.scoring.applicant_of_user(user.id, last_name=person.last_name,
                                                      first_name=person.first_name, birth_date=person.birth_date)
    assert (applicant.taxpayer_number, applicant.passport, applicant.phone) == ("500100732259", "4510 123456",
                                                                                person.phone)
    assessment = await world.scoring.assess("user-loan:1", applicant, consent_ref="c", providers=["scorista"],
                                            amount=Money.of("3000", "RUB"), term_days=14, user_id=user.id)
    assert assessment.pending and assessment.inquiries[0].user_id == user.id
