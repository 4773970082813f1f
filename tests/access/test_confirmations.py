"""One-time codes: bound to what they confirm, single use, expiring, limited guesses."""

import pytest

from core.access.confirmations import CodeRejected, Confirmations, canonical
from core.access.context import RequestInfo, reset, set_current
from core.access.ratelimit import TooManyRequests
from core.users.testing import latest_code, make_user

WITHDRAWAL = {"amount": 150000, "currency": "RUB", "card": "4276****1234"}


async def issue(platform, user, payload=WITHDRAWAL):
    return await platform.service(Confirmations).issue(
        user_id=user.id, purpose="payments.withdrawal", payload=payload, summary="Withdrawal of 1 500,00 RUB"
    )


async def test_a_code_confirms_exactly_its_operation_once(platform):
    user = await make_user(platform)
    confirmations = platform.service(Confirmations)
    challenge = await issue(platform, user)
    message = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert "Withdrawal of 1 500,00 RUB" in message.text and message.kind == "access.code"
    code = message.code
    with pytest.raises(CodeRejected, match="different operation"):
        await confirmations.verify(
            challenge.id,
            code,
            purpose="payments.withdrawal",
            payload={**WITHDRAWAL, "amount": 9_900_000},
            user_id=user.id,
        )
    with pytest.raises(CodeRejected, match="different operation"):
        await confirmations.verify(
            challenge.id, code, purpose="documents.sign", payload=WITHDRAWAL, user_id=user.id
        )
    other = await make_user(platform)
    with pytest.raises(CodeRejected):
        await confirmations.verify(
            challenge.id, code, purpose="payments.withdrawal", payload=WITHDRAWAL, user_id=other.id
        )
    reordered = dict(reversed(list(WITHDRAWAL.items())))
    await confirmations.verify(
        challenge.id, f" {code} ", purpose="payments.withdrawal", payload=reordered, user_id=user.id
    )
    with pytest.raises(CodeRejected, match="already used"):
        await confirmations.verify(challenge.id, code, purpose="payments.withdrawal", payload=WITHDRAWAL)
    stored = await platform.db.fetchrow(
        "SELECT code_hash FROM access_confirmations WHERE id = $1", challenge.id
    )
    assert code.encode() not in bytes(stored["code_hash"]), "only an HMAC of the code is kept"
    delivery = await platform.db.fetchrow(
        "SELECT status, payload_enc FROM notifications_deliveries "
        "WHERE kind = 'access.code' ORDER BY created_at DESC LIMIT 1"
    )
    assert delivery["status"] == "sent" and delivery["payload_enc"] is None, "the sent text is wiped"


async def test_guesses_are_limited(platform):
    user = await make_user(platform)
    confirmations = platform.service(Confirmations)
    challenge = await issue(platform, user)
    code = await latest_code(platform, user.login)
    wrong = "000000" if code != "000000" else "111111"
    messages = []
    for _ in range(4):
        with pytest.raises(CodeRejected) as caught:
            await confirmations.verify(challenge.id, wrong, purpose="payments.withdrawal", payload=WITHDRAWAL)
        messages.append(caught.value.detail)
    assert messages[0] == "wrong code; 4 attempt(s) left" and messages[-1] == "wrong code; 1 attempt(s) left"
    with pytest.raises(TooManyRequests):
        await confirmations.verify(challenge.id, wrong, purpose="payments.withdrawal", payload=WITHDRAWAL)
    with pytest.raises(TooManyRequests):
        await confirmations.verify(challenge.id, code, purpose="payments.withdrawal", payload=WITHDRAWAL)


async def test_codes_expire(platform):
    user = await make_user(platform)
    challenge = await issue(platform, user)
    code = await latest_code(platform, user.login)
    await platform.db.execute(
        "UPDATE access_confirmations SET expires_at = now() - interval '1 second' WHERE id = $1", challenge.id
    )
    with pytest.raises(CodeRejected, match="expired"):
        await platform.service(Confirmations).verify(
            challenge.id, code, purpose="payments.withdrawal", payload=WITHDRAWAL
        )


async def test_sending_is_rate_limited_per_user_and_per_ip(make_platform):
    from core.users.testing import FAST_HASHING

    platform = await make_platform(settings={**FAST_HASHING, "core.access": {"codes_per_hour_per_ip": 3}})
    user = await make_user(platform)
    for _ in range(5):
        await issue(platform, user)
    with pytest.raises(TooManyRequests, match="too many codes were sent"):
        await issue(platform, user)
    token = set_current(RequestInfo(ip="203.0.113.9"))
    try:
        others = [await make_user(platform) for _ in range(4)]
        for other in others[:3]:
            await issue(platform, other)
        with pytest.raises(TooManyRequests, match="from your address"):
            await issue(platform, others[3])
    finally:
        reset(token)


async def test_verify_refuses_to_run_inside_a_transaction(platform):
    user = await make_user(platform)
    challenge = await issue(platform, user)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        async with platform.db.transaction():
            await platform.service(Confirmations).verify(
                challenge.id, "123456", purpose="payments.withdrawal", payload=WITHDRAWAL
            )


def test_canonical_payloads():
    from decimal import Decimal

    assert canonical({"b": 1, "a": Decimal("1.50")}) == '{"a":"1.50","b":1}'
    with pytest.raises(TypeError, match="cannot confirm"):
        canonical({"x": object()})


async def test_new_codes_do_not_buy_new_guesses(make_platform):
    from core.users.testing import FAST_HASHING

    platform = await make_platform(settings={**FAST_HASHING, "core.access": {"code_checks_per_user": 6}})
    user = await make_user(platform)
    confirmations = platform.service(Confirmations)
    refused = 0
    for _ in range(3):
        challenge = await issue(platform, user)
        for _ in range(3):
            try:
                await confirmations.verify(
                    challenge.id, "000000", purpose="payments.withdrawal", payload=WITHDRAWAL
                )
            except TooManyRequests:
                refused += 1
            except CodeRejected:
                pass
    assert refused == 3, "the seventh to ninth guesses are refused whatever the code"


async def test_codes_prefer_the_phone(platform):
    from core.access.pii import PiiCipher
    from core.users.service import PHONE_FIELD, Users

    user = await make_user(platform)
    assert "@" in (await issue(platform, user)).sent_to, "only an e-mail: the code goes there"
    phone = "+79990007766"
    await platform.db.execute(
        "UPDATE users_users SET phone_enc = $2, phone_bidx = $3 WHERE id = $1",
        user.id,
        platform.service(PiiCipher).encrypt(phone, context=PHONE_FIELD.context),
        platform.service(Users).phone_index(phone),
    )
    assert (await issue(platform, user)).sent_to.startswith("+7"), "with a phone, the phone"
