"""The KYC service: submissions, rounds of checks, retries, decisions, and what is stored."""

from __future__ import annotations

import datetime as dt
import types

import asyncpg
import pytest
from litestar.exceptions import ClientException, PermissionDeniedException, ValidationException

from core import hookimpl
from core.access.audit import AuditFilter, AuditLog
from core.access.pii_rotation import pii_fields, reindex, rotate
from core.contracts.kyc import KycCheckDefaults, KycStatus
from core.notifications.service import NotificationService
from core.testing import make_identity
from core.users.testing import make_user
from plugins.kyc.records import State
from plugins.kyc.runner import CRASHED
from plugins.kyc.testing import GOOD, PLUGINS, ivan, person, settle

REVIEWER = make_identity("admin.access", "kyc.review")


async def submit(world, fields=None, user=None):
    user = user or await make_user(world.platform)
    submission = await world.kyc.submit(user.id, fields or person())
    return user, submission


async def test_good_documents_are_verified_without_a_person_and_the_customer_is_told(world):
    user, submission = await submit(world)
    assert (await world.kyc.status(user.id)).state is State.CHECKING
    outcome = await settle(world.kyc, submission.id)
    assert outcome.state is State.VERIFIED and await world.kyc.is_verified(user.id)
    latest = await world.kyc.store.latest_results(await world.kyc.store.get(submission.id))
    assert {n: r.status for n, r in latest.items()} == {
        "itn": KycStatus.PASSED, "passport": KycStatus.PASSED, "snils": KycStatus.PASSED}
    notes = await world.platform.service(NotificationService).list_for(user.id)
    assert [n.kind for n in notes] == ["kyc.verified"]


async def test_the_task_runs_the_checks_and_polls_a_pending_answer(world, broker, jobs):
    world.sandbox.fns.processing_polls = 2
    user, submission = await submit(world)
    assert len(broker.kicked("kyc.run_checks")) == 1  # queued when the submission committed
    assert await jobs.run_now("kyc.run_checks", submission_id=str(submission.id)) == "checking"
    assert await jobs.run_now("kyc.run_checks", submission_id=str(submission.id)) is None  # not due yet
    for minutes, state in ((1, "checking"), (2, "verified")):  # the cron finds what is due, however it got lost
        world.kyc.runner.clock = lambda m=minutes: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=m)
        assert await jobs.run_now("kyc.poll") == {state: 1}
    assert await world.kyc.is_verified(user.id)
    history = await world.kyc.store.history(submission.id)
    assert [r.status.value for r in history if r.check == "itn"] == ["pending", "pending", "passed"]


async def test_a_provider_outage_is_retried_until_it_answers(world):
    world.sandbox.fns.down = True
    _user, submission = await submit(world)
    first = await world.kyc.run_round(submission.id)
    assert first.state is State.CHECKING and first.next_at is not None
    world.sandbox.fns.down = False
    assert (await settle(world.kyc, submission.id)).state is State.VERIFIED
    itn = [r for r in await world.kyc.store.history(submission.id) if r.check == "itn"]
    assert itn[0].status is KycStatus.ERROR and itn[-1].status is KycStatus.PASSED


async def test_a_check_that_never_answers_goes_to_a_person(make_platform, sandbox):
    platform = await make_platform(PLUGINS, settings={**sandbox.settings(max_attempts=3)})
    await sandbox.load_invalid_passports(platform)
    sandbox.fns.captcha = True
    from plugins.kyc.service import KycService

    kyc = platform.service(KycService)
    user = await make_user(platform)
    submission = await kyc.submit(user.id, person())
    outcome = await settle(kyc, submission.id, step_s=86_400)
    assert outcome.state is State.REVIEW
    itn = [r for r in await kyc.store.history(submission.id) if r.check == "itn"]
    assert [r.attempt for r in itn] == [1, 2, 3] and all(r.status is KycStatus.ERROR for r in itn)


async def test_failed_checks_and_duplicates_go_to_review(world):
    _user, wrong_itn = await submit(world, person(itn="500100732259"))
    assert (await settle(world.kyc, wrong_itn.id)).state is State.REVIEW
    _other, listed = await submit(world, person(passport_number="45 05 123456"))
    assert (await settle(world.kyc, listed.id)).state is State.REVIEW
    # Anna's passport is already someone's (the first submission): all checks pass, a person decides.
    _third, copy = await submit(world, person(itn=GOOD["itn"], passport_number=GOOD["passport_number"]))
    assert "duplicate_passport" in copy.flags and "duplicate_itn" in copy.flags
    assert (await settle(world.kyc, copy.id)).state is State.REVIEW


async def test_a_crashing_check_is_an_error_not_an_exception(make_platform, sandbox):
    class Broken(KycCheckDefaults):
        name, title, document_kinds = "broken", "Broken", frozenset({"snils"})

        async def check(self, subject):
            raise RuntimeError("bug")

    broken = types.SimpleNamespace(register_kyc_checks=hookimpl(lambda register: register(Broken())))
    platform = await make_platform(PLUGINS, settings=sandbox.settings(), extra_plugins={"broken": broken})
    await sandbox.load_invalid_passports(platform)
    from plugins.kyc.service import KycService

    kyc = platform.service(KycService)
    submission = await kyc.submit((await make_user(platform)).id, person())
    assert (await kyc.run_round(submission.id)).state is State.CHECKING
    [record] = [r for r in await kyc.store.history(submission.id) if r.check == "broken"]
    assert record.status is KycStatus.ERROR and record.reasons == (CRASHED,)


async def test_a_new_submission_replaces_the_current_one(world):
    user, first = await submit(world)
    await settle(world.kyc, first.id)
    _, second = await submit(world, ivan(), user=user)
    history = await world.kyc.history(user.id)
    assert [s.state for s in history] == [State.CHECKING, State.SUPERSEDED]
    assert not await world.kyc.is_verified(user.id)  # until the new documents are checked
    assert (await world.kyc.run_round(first.id)) is None  # a replaced submission is never run again
    assert (await settle(world.kyc, second.id)).state is State.VERIFIED


async def test_submissions_per_day_are_limited(make_platform, sandbox):
    platform = await make_platform(PLUGINS, settings=sandbox.settings(submissions_per_day=2))
    from plugins.kyc.service import KycService

    kyc = platform.service(KycService)
    user = await make_user(platform)
    await kyc.submit(user.id, person())
    await kyc.submit(user.id, person())
    with pytest.raises(ClientException) as caught:
        await kyc.submit(user.id, person())
    assert caught.value.status_code == 429


async def test_bad_input_names_each_field_and_stores_nothing(world):
    user = await make_user(world.platform)
    with pytest.raises(ValidationException) as caught:
        await world.kyc.submit(user.id, person(itn="123456789037", snils="112-233-445 96",
                                               passport_issuer_code="77", consent=""))
    assert {e["key"] for e in caught.value.extra} == {"itn", "snils", "passport_issuer_code", "consent"}
    assert await world.kyc.store.current(user.id) is None


async def test_reviewers_decide_with_reasons_and_are_audited(world):
    user, submission = await submit(world, person(itn="500100732259"))
    await settle(world.kyc, submission.id)
    with pytest.raises(ValidationException):  # a failed check: say why you verify anyway
        await world.kyc.approve(submission.id, by=REVIEWER)
    with pytest.raises(PermissionDeniedException):
        await world.kyc.approve(submission.id, by=make_identity("kyc.review", user_id=user.id), reason="me")
    with pytest.raises(ValidationException):
        await world.kyc.reject(submission.id, by=REVIEWER, reason="   ")
    rejected = await world.kyc.reject(submission.id, by=REVIEWER, reason="The ITN is not yours: check it")
    assert rejected.state is State.REJECTED and rejected.decided_by == REVIEWER.user_id
    with pytest.raises(ClientException):
        await world.kyc.approve(submission.id, by=REVIEWER, reason="changed my mind")
    again = await world.kyc.recheck(submission.id, by=REVIEWER)
    assert again.state is State.CHECKING and again.round == 2 and again.decision_reason is None
    await settle(world.kyc, submission.id)
    verified = await world.kyc.approve(submission.id, by=REVIEWER, reason="Checked the ITN by phone")
    assert verified.state is State.VERIFIED
    entries = await world.platform.service(AuditLog).search(AuditFilter(action="kyc.", target=f"user:{user.id}"))
    assert [e.action for e in reversed(entries)] == ["kyc.submitted", "kyc.rejected", "kyc.rechecked", "kyc.approved"]
    notes = [n.kind for n in await world.platform.service(NotificationService).list_for(user.id)]
    assert notes == ["kyc.verified", "kyc.rejected"]


async def test_state_changes_fire_the_event_after_commit(world):
    seen = []

    class Listener:
        @hookimpl
        def on_kyc_status_changed(self, verification, old_status, new_status):
            seen.append((verification.user_id, old_status, new_status))

    with world.platform.plugins.temporary("listener", Listener()):
        user, submission = await submit(world)
        await settle(world.kyc, submission.id)
    assert seen == [(user.id, "none", "checking"), (user.id, "checking", "verified")]


async def test_personal_data_are_encrypted_rotatable_and_erased_after_retention(world):
    user, submission = await submit(world)
    await settle(world.kyc, submission.id)
    raw = await world.platform.db.fetchrow("SELECT * FROM kyc_submissions WHERE id = $1", submission.id)
    dump = b"".join(v for v in raw.values() if isinstance(v, bytes))
    for secret in ("Петрова", GOOD["itn"], "654321", "11223344595"):
        assert secret.encode() not in dump
    declared = {f.context for f in pii_fields(world.platform)}
    assert {"kyc_submissions.passport_enc", "kyc_check_results.details_enc"} <= declared
    await rotate(world.platform)  # re-encrypting history's ciphertexts is the one change allowed
    indexes = "SELECT itn_bidx, passport_bidx, snils_bidx FROM kyc_submissions WHERE id = $1"
    before = await world.platform.db.fetchrow(indexes, submission.id)
    await reindex(world.platform)  # recomputed from the ciphertexts: the same normalisation as on insert
    assert await world.platform.db.fetchrow(indexes, submission.id) == before and all(before.values())
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with world.platform.db.transaction():
            await world.platform.db.execute("UPDATE kyc_check_results SET status = 'passed'")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with world.platform.db.transaction():
            await world.platform.db.execute("DELETE FROM kyc_check_results")
    await world.platform.db.execute(
        "UPDATE users_users SET status = 'deleted', deleted_at = now() - interval '6 years' WHERE id = $1", user.id)
    assert await world.kyc.erase_expired() == 1
    assert await world.kyc.store.subject(submission.id) is None
    view = await world.kyc.review_view(submission.id, viewer=REVIEWER)
    assert view.values == {} and all(r.details is None for r in view.results)


async def test_a_passport_reported_invalid_after_verification_goes_back_to_review(world, jobs, broker):
    from plugins.kyc.passport.invalid_list import InvalidPassports

    user, submission = await submit(world)
    await settle(world.kyc, submission.id)
    reviewer = await make_user(world.platform, roles=("customer", "moderator"))
    world.sandbox.mvd.add("4020", "654321", 4)  # Anna's passport, now wanted
    assert (await jobs.run_now("kyc.passport.import_list"))["status"] == "done"
    assert [m.task_name for m in broker.kicked("kyc.monitor")] == ["kyc.monitor"]
    assert await jobs.run_now("kyc.monitor", check="passport") == {"checked": 1, "failed": 1}
    assert (await world.kyc.status(user.id)).state is State.REVIEW
    latest = await world.kyc.store.latest_results(await world.kyc.store.get(submission.id))
    assert latest["passport"].status is KycStatus.FAILED
    notifications = world.platform.service(NotificationService)
    assert [n.kind for n in await notifications.list_for(user.id)] == ["kyc.verified"]  # no tipping off
    assert [n.kind for n in await notifications.list_for(reviewer.id)] == ["kyc.review_needed"]
    assert await world.platform.service(InvalidPassports).lookup("4020654321") == (True, 4)
    assert await jobs.run_now("kyc.monitor", check="passport") == {"checked": 0, "failed": 0}
