"""The identity-check contract, run against every registered check through its provider's emulator.

What any ``core.contracts.kyc.KycCheck`` must do:

* say what it is (``name``, ``title``) and which documents it needs;
* find nothing wrong with good documents, and pass them (polling while it answers PENDING);
* fail a bad document with reasons a reviewer can read (or refuse it in ``validate``);
* answer for itself, with details that can be stored (JSON);
* answer ERROR, never raise, when its provider is down; answer something, never raise, for
  any well-formed subject and for a reference it does not know.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.contracts.kyc import ITN, PASSPORT, SNILS, KycCheck, KycDocument, KycResult, KycStatus, KycSubject
from plugins.kyc.documents import KIND_FIELDS, PERSON_FIELDS, read_subject
from plugins.kyc.service import KycService
from plugins.kyc.testing import GOOD, LISTED_PASSPORT, PLUGINS, KycSandbox, ivan

FORM_FIELDS = {*PERSON_FIELDS, *(f for fields in KIND_FIELDS.values() for f in fields)}
#: Per document kind, a value that is well formed but wrong for the good person.
BAD = {
    ITN: {"itn": "500100732259"},                    # right check digits, someone else's number
    PASSPORT: {"passport_number": LISTED_PASSPORT},  # listed as invalid; not this person's either
    SNILS: {"snils": "112-233-445 96"},              # wrong check digits
}


@pytest.fixture(scope="module")
async def sandbox():
    async with KycSandbox.start() as box:
        yield box


@pytest.fixture
async def kyc(make_platform, sandbox) -> KycService:
    sandbox.reset()
    platform = await make_platform(PLUGINS, settings=sandbox.settings())
    await sandbox.load_invalid_passports(platform)
    return platform.service(KycService)


def subject_of(kyc: KycService, fields: dict[str, str]) -> KycSubject:
    return dataclasses.replace(kyc.validate(fields), reference="contract-test")


def unchecked_subject(fields: dict[str, str]) -> KycSubject:
    """The subject of a form, whatever the checks' ``validate`` would say of it."""
    reading = read_subject(fields, offered=KIND_FIELDS, required=(), min_age=18, today=dt.date.today())
    assert not reading.problems, reading.problems
    return dataclasses.replace(reading.subject, reference="contract-test")


async def answer(check: KycCheck, subject: KycSubject, polls: int = 5) -> KycResult:
    """The check's final answer, polling while it is PENDING."""
    result = await check.check(subject)
    for _ in range(polls):
        if result.status is not KycStatus.PENDING:
            break
        assert result.reference, f"{check.name}: a PENDING answer must carry the reference to poll with"
        result = await check.poll(subject, result.reference)
    return result


def assert_well_formed(check: KycCheck, result: KycResult) -> None:
    assert isinstance(result, KycResult)
    assert result.check == check.name
    assert KycStatus(result.status) in KycStatus
    json.dumps(dict(result.details), ensure_ascii=False)
    assert all(isinstance(r, str) and r for r in result.reasons)
    if result.status in (KycStatus.FAILED, KycStatus.ERROR):
        assert result.reasons, f"{check.name}: a {result.status} answer must say why"


@contextlib.contextmanager
def provider_down(sandbox: KycSandbox, check: KycCheck):
    """The provider of ``check`` does not answer; None for checks that ask no one."""
    if check.name == "itn":
        sandbox.fns.down = True
    elif check.name != "passport":
        yield None
        return
    try:
        yield True
    finally:
        sandbox.fns.down = False


def checks_of(kyc: KycService) -> list[KycCheck]:
    found = kyc.checks()
    assert {c.name for c in found} >= {"itn", "passport", "snils"}
    return found


async def test_every_check_says_what_it_is(kyc):
    for check in checks_of(kyc):
        assert isinstance(check, KycCheck)
        assert check.name and check.title
        assert check.document_kinds and check.document_kinds <= set(KIND_FIELDS)


async def test_good_documents_pass(kyc):
    subject = subject_of(kyc, GOOD)
    for check in checks_of(kyc):
        assert list(check.validate(subject)) == []
        result = await answer(check, subject)
        assert_well_formed(check, result)
        assert result.status is KycStatus.PASSED, (check.name, result)


async def test_a_bad_document_fails_with_reasons_or_is_refused_by_validate(kyc):
    for check in checks_of(kyc):
        for kind in check.document_kinds:
            subject = unchecked_subject({**GOOD, **BAD[kind]})
            problems = list(check.validate(subject))
            assert all(p.field in FORM_FIELDS and p.message for p in problems)
            result = await answer(check, subject)
            assert_well_formed(check, result)
            assert result.status is KycStatus.FAILED, (check.name, kind, result)


async def test_a_provider_outage_is_an_error_to_retry_never_an_exception(kyc, sandbox):
    subject = subject_of(kyc, ivan())
    for check in checks_of(kyc):
        with provider_down(sandbox, check) as down:
            if down is None:
                continue
            if check.name == "passport":
                await kyc.platform.db.execute("UPDATE kyc_passport_list_imports SET status = 'failed'")
            result = await check.check(subject)
            assert_well_formed(check, result)
            assert result.status is KycStatus.ERROR, (check.name, result)


async def test_an_unknown_reference_is_answered(kyc):
    subject = subject_of(kyc, GOOD)
    for check in checks_of(kyc):
        result = await check.poll(subject, "no-such-reference")
        assert_well_formed(check, result)
        assert result.status is not KycStatus.PENDING or result.reference != "no-such-reference"


names = st.text(alphabet="АБВЕЁЖЗИКЛМНОПРСТабвеёжзиклмнопрст -", min_size=1, max_size=30)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    last_name=names,
    first_name=names,
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2010, 1, 1)),
    issued=st.dates(min_value=dt.date(1997, 10, 1), max_value=dt.date(2026, 1, 1)),
    itn=st.text(alphabet="0123456789", min_size=12, max_size=12),
    passport=st.text(alphabet="0123456789", min_size=10, max_size=10),
    snils=st.text(alphabet="0123456789", min_size=11, max_size=11),
)
async def test_any_well_formed_subject_gets_an_answer(kyc, last_name, first_name, born, issued, itn, passport, snils):
    subject = KycSubject(
        reference="contract-test", last_name=last_name, first_name=first_name, birth_date=born,
        documents={
            ITN: KycDocument(ITN, itn),
            PASSPORT: KycDocument(PASSPORT, passport, issued_on=issued, issuer_code="770-001"),
            SNILS: KycDocument(SNILS, snils),
        },
    )
    for check in checks_of(kyc):
        list(check.validate(subject))
        assert_well_formed(check, await check.check(subject))
