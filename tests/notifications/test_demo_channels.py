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
