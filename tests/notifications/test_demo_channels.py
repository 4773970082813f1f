"""The demo's channels: the outbox first for e-mail and SMS (the demo reads codes there), FCM for push."""

import tomllib
from pathlib import Path

from core.notifications.service import NotificationService

DEMO = Path(__file__).resolve().parents[2] / "deployments" / "demo.toml"


async def test_the_outbox_comes_first_for_codes_and_the_providers_stand_behind_it(make_platform):
    enabled = tomllib.loads(DEMO.read_text())["platform"]["plugins"]
    messaging = [name for name in enabled if name.startswith("notify.")]
    assert {"notify.outbox", "notify.mts", "notify.sendsay", "notify.esputnik", "notify.fcm"} <= set(messaging)
    platform = await make_platform(messaging, core={"platform": {"sandbox": True}})
    service = platform.service(NotificationService)
    assert [c.name for c in service.channels_for("email")] == ["outbox", "esputnik", "sendsay"]
    assert [c.name for c in service.channels_for("phone")] == ["outbox", "esputnik", "mts"]
    assert [c.name for c in service.channels_for("push")] == ["fcm"]


async def test_in_a_sandbox_every_provider_channel_reaches_its_emulator_in_the_same_app(make_platform):
    import uuid

    from core.contracts.notifications import Address, DeliveryStatus, OutgoingMessage
    from core.sandbox import LoopbackServer
    from core.testing import free_port
    from core.web.app import create_app
    from plugins.notify.testing import user_with_a_device

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    platform = await make_platform(["notify.mts", "notify.sendsay", "notify.esputnik", "notify.fcm"],
                                   core={"platform": {"sandbox": True}, "web": {"base_url": base}})
    addresses = {"phone": "+79990001122", "email": "ann@example.com", **await user_with_a_device(platform)}
    async with LoopbackServer(create_app(platform), port):
        for channel in platform.registry("notification_channels"):
            for kind in sorted(channel.address_kinds):
                message = OutgoingMessage(uuid.uuid4(), "users.welcome", Address(kind, addresses[kind]), "Hi",
                                          "Welcome", "en")
                result = await channel.send(message)
                assert result.status is DeliveryStatus.SENT, (channel.name, kind, result)
