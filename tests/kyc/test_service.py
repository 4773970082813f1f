"""The KYC service: submissions, rounds of checks, states, retries, and what is stored."""

from __future__ import annotations

import pytest
from litestar.exceptions import ValidationException

from core.contracts.kyc import KycStatus
from core.users.testing import make_user
from plugins.kyc.records import State
from plugins.kyc.testing import person, settle


async def submit_and_run(world, user_id, fields):
    submission = await world.kyc.submit(user_id, fields)
    return submission, await settle(world.kyc, submission.id)


async def test_good_documents_are_verified_without_a_person(world):
    user = await make_user(world.platform)
    submission, outcome = await submit_and_run(world, user.id, person())
    assert outcome.state is State.VERIFIED
    assert await world.kyc.is_verified(user.id)
    records = await world.kyc.store.latest_results(await world.kyc.store.get(submission.id))
    assert {name: r.status for name, r in records.items()} == {
        "itn": KycStatus.PASSED, "passport": KycStatus.PASSED, "snils": KycStatus.PASSED}


async def test_a_wrong_itn_goes_to_review(world):
    user = await make_user(world.platform)
    _submission, outcome = await submit_and_run(world, user.id, person(itn="500100732259"))
    assert outcome.state is State.REVIEW
    assert not await world.kyc.is_verified(user.id)


async def test_bad_input_names_each_field_and_stores_nothing(world):
    user = await make_user(world.platform)
    with pytest.raises(ValidationException) as caught:
        await world.kyc.submit(user.id, person(itn="123", snils="112-233-445 96", passport_issuer_code="77",
                                               consent=""))
    keys = {e["key"] for e in caught.value.extra}
    assert keys == {"itn", "snils", "passport_issuer_code", "consent"}
    assert await world.kyc.store.current(user.id) is None
