"""notify.mts: the Exolve request as the API documents it, credentials, the sandbox mount."""

import uuid

from core.contracts.notifications import PHONE, Address, DeliveryStatus, OutgoingMessage
from core.notifications.service import NotificationService
from plugins.notify.testing import PROVIDERS, serve


def sms(to: str = "+7 (999) 123-45-67", text: str = "Code 4321") -> OutgoingMessage:
    return OutgoingMessage(uuid.uuid4(), "access.code", Address(PHONE, to), "", text, "en", sensitive=True)


async def test_sends_digits_with_the_bearer_key_and_maps_refusals(make_platform):
    async with serve(PROVIDERS["notify.mts"]) as running:
        platform = await make_platform(["notify.mts"], settings=running.settings(sender="79001234567"))
        channel = platform.registry("notification_channels").get("mts")
        result = await channel.send(sms())
        assert result.status is DeliveryStatus.SENT
        got = running.emulator.messages[-1]
        assert got.request == {"number": "79001234567", "destination": "79991234567", "text": "Code 4321"}
        assert result.provider_ref == got.id
        short = await channel.send(sms("+7 999"))
        assert short.status is DeliveryStatus.REJECTED and len(running.emulator.messages) == 1, "not even asked"
        wrong_key = await make_platform(["notify.mts"], settings=running.settings(api_key="not-the-key"))
        refused = await wrong_key.registry("notification_channels").get("mts").send(sms())
        assert refused.status is DeliveryStatus.RETRY and "credentials" in refused.error


async def test_the_service_delivers_through_it(make_platform):
    async with serve(PROVIDERS["notify.mts"]) as running:
        platform = await make_platform(["notify.mts"], settings=running.settings())
        delivery = await platform.service(NotificationService).send(Address(PHONE, "+79995550011"), "users.unblocked")
        assert await platform.service(NotificationService).delivery_status(delivery) == "sent"
        assert running.emulator.latest("79995550011").text == "You can sign in again."


async def test_without_a_key_it_stays_off_unless_the_sandbox_lends_the_emulator(make_platform):
    off = await make_platform(["notify.mts"])
    assert "mts" not in off.registry("notification_channels")
    sandbox = await make_platform(["notify.mts"], core={"platform": {"sandbox": True}})
    channel = sandbox.registry("notification_channels").get("mts")
    assert channel.http.base_url.endswith("/sandbox/mts")
    from core.testing import app_client, make_identity

    async with app_client(sandbox) as browser:
        answer = await browser.post("/sandbox/mts/messaging/v1/SendSMS", json={"number": "KOPILKA"},
                                    headers={"Authorization": "Bearer exolve-sandbox-key"})
        assert answer.status_code == 400, answer.headers
        assert "destination" in answer.json()["error"]["message"]
        anonymous = await browser.get("/sandbox/mts/_emulator", headers={"Accept": "application/json"})
        assert anonymous.status_code == 401, "what the emulator received (codes) is not for everyone"
    async with app_client(sandbox, identity=make_identity("notify.mts.view")) as admin:
        assert (await admin.get("/sandbox/mts/_emulator")).json()["provider"] == "mts"
