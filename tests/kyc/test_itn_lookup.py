"""The tax service's "Узнать ИНН", spoken over loopback HTTP to its emulator: every answer it can give."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pytest

from core.contracts.kyc import KycStatus
from plugins.kyc.documents import KIND_FIELDS, read_subject
from plugins.kyc.itn.check import (
    CAPTCHA,
    MISMATCH,
    NOT_FOUND,
    PACED,
    REFUSED,
    THROTTLED,
    UNAVAILABLE,
    ItnCheck,
)
from plugins.kyc.itn.client import FnsClient, Outcome, find_form
from plugins.kyc.testing import MISMATCHED, REAL_ITN_OF_MISMATCHED, person


def subject(fields):
    reading = read_subject(fields, offered=KIND_FIELDS, required=(), min_age=18, today=dt.date.today())
    assert not reading.problems
    return dataclasses.replace(reading.subject, reference="test")


@pytest.fixture
def client(sandbox):
    return FnsClient(sandbox.fns_url, timeout_s=2, first_poll_delay_s=0)


@pytest.fixture
def check(client):
    return ItnCheck(client, poll_after_s=7, captcha_backoff_s=900, throttle_backoff_s=300)


def test_the_find_form_is_the_web_forms():
    form = find_form(subject(MISMATCHED))
    assert form["c"] == "find" and form["doctype"] == "21"
    assert form["docno"] == "46 19 000777" and form["bdate"] == "30.11.1994" and form["docdt"] == "10.12.2019"
    assert form["opt_otch"] == "1" and form["otch"] == ""   # no patronymic: say so
    assert "opt_otch" not in find_form(subject(person()))


async def test_found_after_the_service_asks_to_wait(check, sandbox):
    s = subject(person())
    first = await check.check(s)
    assert first.status is KycStatus.PENDING and first.retry_after_s == 7 and first.reference
    assert sandbox.fns.calls == ["page", "find", "get"]   # cookies first, then the two steps
    done = await check.poll(s, first.reference)
    assert done.status is KycStatus.PASSED


async def test_another_itn_and_an_unknown_person(check, sandbox):
    sandbox.fns.processing_polls = 0
    mismatch = await check.check(subject(MISMATCHED))
    assert mismatch.status is KycStatus.FAILED and mismatch.reasons == (MISMATCH,)
    assert mismatch.details["found_itn"] == REAL_ITN_OF_MISMATCHED
    stranger = await check.check(subject(person(last_name="Неизвестная")))
    assert stranger.status is KycStatus.FAILED and stranger.reasons == (NOT_FOUND,)


async def test_captcha_throttling_and_outages_are_errors_to_retry(check, sandbox):
    s = subject(person())
    sandbox.fns.captcha = True
    captcha = await check.check(s)
    assert captcha.status is KycStatus.ERROR and captcha.reasons == (CAPTCHA,) and captcha.retry_after_s == 900
    sandbox.fns.captcha, sandbox.fns.throttle_per_minute = False, 0
    throttled = await check.check(s)
    assert throttled.status is KycStatus.ERROR and throttled.reasons == (THROTTLED,)
    assert throttled.retry_after_s == 60  # the service's Retry-After
    sandbox.fns.throttle_per_minute, sandbox.fns.down = None, True
    down = await check.check(s)
    assert down.status is KycStatus.ERROR and down.reasons == (UNAVAILABLE,) and "503" in down.details["error"]


async def test_an_expired_request_id_starts_the_lookup_again(check, sandbox):
    s = subject(person())
    first = await check.check(s)
    sandbox.fns.requests.clear()  # the service forgot it
    again = await check.poll(s, first.reference)
    assert again.status is KycStatus.PENDING and again.reference != first.reference
    assert (await check.poll(s, again.reference)).status is KycStatus.PASSED


async def test_the_services_own_field_errors_fail_the_check(check):
    s = subject(person())
    broken = dataclasses.replace(s, birth_date=dt.date(2030, 1, 1))  # after the passport's issue
    result = await check.check(broken)
    assert result.status is KycStatus.FAILED and result.reasons == (REFUSED,)
    assert "docdt" in result.details["fns_errors"]


async def test_answers_that_are_not_the_protocol_are_errors():
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/inn.do":
            return httpx.Response(200, text="<html></html>", headers={"set-cookie": "JSESSIONID=1"})
        if request.url.path == "/inn-new-proc.do":
            return httpx.Response(200, text="<html>maintenance</html>")
        return httpx.Response(200, json=[])

    client = FnsClient("http://fns.test", transport=httpx.MockTransport(reply), first_poll_delay_s=0)
    answer = await client.find(subject(person()))
    assert answer.outcome is Outcome.UNAVAILABLE and "not JSON" in answer.message
    assert (await client.get("x")).outcome is Outcome.UNAVAILABLE

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    offline = FnsClient("http://fns.test", transport=httpx.MockTransport(refuse))
    assert (await offline.find(subject(person()))).outcome is Outcome.UNAVAILABLE


async def test_without_lookup_only_the_check_digits_count():
    check = ItnCheck(None)
    assert check.document_kinds == {"itn"}
    result = await check.check(subject(person(passport_number="", passport_issued_on="", passport_issuer_code="",
                                                 passport_issuer="")))
    assert result.status is KycStatus.PASSED and result.details == {"lookup": "off"}
    assert (await check.check(subject(person(itn="123456789037")))).status is KycStatus.FAILED


async def test_our_own_pace_keeps_us_under_the_services_limit(make_platform, sandbox):
    from plugins.kyc.itn.settings import ItnSettings, build_check

    platform = await make_platform(["kyc", "kyc.itn"])
    check = build_check(ItnSettings(base_url=sandbox.fns_url, first_poll_delay_s=0, requests_per_minute=2), platform)
    sandbox.fns.processing_polls = 0
    s = subject(person())
    assert [(await check.check(s)).status for _ in range(2)] == [KycStatus.PASSED, KycStatus.PASSED]
    paced = await check.check(s)
    assert paced.status is KycStatus.ERROR and paced.reasons == (PACED,) and 0 < paced.retry_after_s <= 60
    assert sandbox.fns.calls.count("find") == 2  # the third was never sent
