"""The scoring-provider contract, run against every provider through its emulator.

What any ``core.contracts.scoring.ScoringProvider`` must do:

* say what it is (name, title) and how it answers (``asynchronous``, ``depends_on_loan``);
* answer a person the bureau knows with a final ``done`` result carrying a score or
  factors, the provider's reference and its document as received (after polling, when
  it is asynchronous), and someone it does not know with a non-error final answer;
* never raise: missing data, refused credentials, an outage, a timeout and an answer
  that is not the protocol's are ``error`` results with the common error codes, and
  ``retryable`` says truly whether asking again may help.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from core.contracts.scoring import (
    AUTH_FAILED,
    CONNECTION_FAILED,
    INVALID_REQUEST,
    NOT_SUPPORTED,
    TIMEOUT,
    UNREADABLE,
    Applicant,
    ScoringProvider,
    ScoringRequest,
    ScoringStatus,
)
from core.money import Money
from core.testing import free_port
from plugins.scoring.emulation import NOBODY, TEST_PERSONS, Mode
from plugins.scoring.testing import PROVIDERS, Sandbox, final_answer

WRONG_CREDENTIALS = {"ubki": {"password": "wrong"}, "mbki": {"password": "wrong"},
                     "scorista": {"token": "0" * 40}}


@pytest.fixture(scope="module")
async def contract_sandbox():
    box = await Sandbox.start()
    yield box
    await box.stop()


@pytest.fixture(params=PROVIDERS)
def name(request, contract_sandbox) -> str:
    contract_sandbox.reset()
    return request.param


def ask(applicant: Applicant) -> ScoringRequest:
    return ScoringRequest(request_id=f"contract-{uuid.uuid4()}", applicant=applicant,
                          amount=Money.of("5000.00", "UAH"), term_days=30, consent_ref="consent:contract")


async def test_the_provider_says_what_it_is(name, contract_sandbox):
    provider = contract_sandbox.provider(name)
    assert isinstance(provider, ScoringProvider)
    assert provider.name == name and provider.title
    assert isinstance(provider.asynchronous, bool) and isinstance(provider.depends_on_loan, bool)


async def test_a_known_person_gets_a_final_report_with_the_document(name, contract_sandbox):
    provider = contract_sandbox.provider(name)
    first = await provider.score(ask(TEST_PERSONS[0].applicant))
    assert first.status is (ScoringStatus.PENDING if provider.asynchronous else ScoringStatus.DONE), first
    if provider.asynchronous:
        assert first.report_ref
    result = await final_answer(provider, first)
    assert result.status is ScoringStatus.DONE and result.provider == name, result
    assert result.score is not None or result.factors
    assert result.report_ref and result.document
    assert result.decision in (None, "approve", "decline", "review")
    for factor, value in result.factors.items():
        assert isinstance(value, int | Decimal | str | bool), factor
        assert not isinstance(value, float), factor


async def test_someone_unknown_is_an_answer_not_an_error(name, contract_sandbox):
    provider = contract_sandbox.provider(name)
    result = await final_answer(provider, await provider.score(ask(NOBODY)))
    assert result.status in (ScoringStatus.NO_DATA, ScoringStatus.DONE), result


async def test_an_applicant_without_what_the_provider_needs_is_refused_before_any_call(name, contract_sandbox):
    provider = contract_sandbox.provider(name)
    result = await provider.score(ask(Applicant(last_name="X", first_name="Y")))
    assert result.status is ScoringStatus.ERROR and result.error_code == INVALID_REQUEST, result
    assert not result.retryable and result.error
    assert not contract_sandbox.emulators[name].calls


async def test_refused_credentials_are_an_error_that_asking_again_does_not_fix(name, contract_sandbox):
    provider = contract_sandbox.provider(name, **WRONG_CREDENTIALS[name])
    result = await provider.score(ask(TEST_PERSONS[1].applicant))
    assert result.status is ScoringStatus.ERROR and result.error_code == AUTH_FAILED, result
    assert not result.retryable


@pytest.mark.parametrize("mode, codes", [(Mode.DOWN, {CONNECTION_FAILED, UNREADABLE}), (Mode.GARBAGE, {UNREADABLE}),
                                         (Mode.TIMEOUT, {TIMEOUT})])
async def test_an_outage_is_a_retryable_error(name, contract_sandbox, mode, codes):
    contract_sandbox.emulators[name].set_modes([mode])
    provider = contract_sandbox.provider(name, timeout_s=0.3)
    result = await provider.score(ask(TEST_PERSONS[1].applicant))
    assert result.status is ScoringStatus.ERROR and result.error_code in codes, result
    assert result.retryable


async def test_an_unreachable_provider_is_a_retryable_connection_failure(name, contract_sandbox):
    provider = contract_sandbox.provider(name, base=f"http://127.0.0.1:{free_port()}")
    result = await provider.score(ask(TEST_PERSONS[1].applicant))
    assert result.status is ScoringStatus.ERROR and result.error_code == CONNECTION_FAILED and result.retryable


async def test_fetch_is_for_asynchronous_providers_only(name, contract_sandbox):
    provider = contract_sandbox.provider(name)
    result = await provider.fetch("no-such-report")
    assert result.status is ScoringStatus.ERROR, result
    if not provider.asynchronous:
        assert result.error_code == NOT_SUPPORTED
