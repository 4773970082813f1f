"""notify.esputnik: Basic auth, the SMS and e-mail bodies, the kinds a deployment picks."""

import uuid

from core.contracts.notifications import EMAIL, PHONE, Address, DeliveryStatus, OutgoingMessage
from plugins.notify.testing import PROVIDERS, serve


def message(kind: str, to: str) -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "access.code", Address(kind, to), "Your code", "Code: 7777", "en")


async def test_sms_and_email_bodies_with_basic_auth(make_platform):
    async with serve(PROVIDERS["notify.esputnik"]) as running:
        settings = running.settings(sms_from="BANK", email_from="bank@example.com", email_from_name="Bank")
        platform = await make_platform(["notify.esputnik"], settings=settings)
        channel = platform.registry("notification_channels").get("esputnik")
        sms = await channel.send(message(PHONE, "+380 50 123 45 67"))
        assert sms.status is DeliveryStatus.SENT
        assert running.emulator.messages[-1].request == {"from": "BANK", "text": "Code: 7777",
                                                         "phoneNumbers": ["380501234567"]}
        mail = await channel.send(message(EMAIL, "ann@example.com"))
        assert mail.status is DeliveryStatus.SENT and mail.provider_ref == running.emulator.messages[-1].id
        assert running.emulator.messages[-1].request == {
            "from": '"Bank" <bank@example.com>', "subject": "Your code", "htmlText": "<p>Code: 7777</p>",
            "plainText": "Code: 7777", "emails": ["ann@example.com"]}


async def test_wrong_key_is_a_retry_and_kinds_are_configurable(make_platform):
    async with serve(PROVIDERS["notify.esputnik"]) as running:
        wrong = await make_platform(["notify.esputnik"], settings=running.settings(api_key="nope"))
        refused = await wrong.registry("notification_channels").get("esputnik").send(message(PHONE, "+79990001122"))
        assert refused.status is DeliveryStatus.RETRY and "credentials" in refused.error
        sms_only = await make_platform(["notify.esputnik"], settings=running.settings(address_kinds=["phone"]))
        assert sms_only.registry("notification_channels").get("esputnik").address_kinds == frozenset({PHONE})
        assert running.emulator.messages == []
