"""NotificationService: in-app notifications, deliveries that survive failures, the pages."""

import uuid

import pytest

from core import hookimpl
from core.contracts.notifications import EMAIL, PHONE, Address, DeliveryResult, OutgoingMessage
from core.notifications.service import NotificationService
from core.users.testing import FAST_HASHING, make_user, sign_in


class FlakySms:
    """A channel that fails in the ways real providers do."""

    name = "flaky-sms"
    address_kinds = frozenset({PHONE})

    def __init__(self):
        self.answers = []
        self.sent: list[OutgoingMessage] = []

    async def send(self, message):
        answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "boom":
            raise RuntimeError("provider library bug")
        if answer == "retry":
            return DeliveryResult.retry("timeout")
        if answer == "reject":
            return DeliveryResult.rejected("invalid number")
        self.sent.append(message)
        return DeliveryResult.sent(f"sms-{len(self.sent)}")


class FlakyPlugin:
    def __init__(self):
        self.channel = FlakySms()

    @hookimpl
    def register_notification_channels(self, register):
        register(self.channel)


@pytest.fixture
async def flaky(make_platform):
    plugin = FlakyPlugin()
    # Without the outbox: it would take the phone messages first.
    platform = await make_platform(plugins=[], settings=FAST_HASHING, extra_plugins={"flaky": plugin})
    return platform, plugin.channel


async def test_notify_keeps_an_in_app_copy_and_delivers(platform):
    user = await make_user(platform, locale="en")
    service = platform.service(NotificationService)
    sent = await service.notify(user.id, "users.blocked", {"reason": "checks"})
    assert sent.notification_id is not None and len(sent.delivery_ids) == 1
    assert await service.delivery_status(sent.delivery_ids[0]) == "sent"
    message = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert message.subject == "Your account is blocked" and "checks" in message.text
    listed = await service.list_for(user.id, locale="en")
    assert listed[0].subject == "Your account is blocked" and listed[0].unread
    assert await service.unread_count(user.id) == 1


async def test_in_app_only_and_sensitive_messages(platform):
    user = await make_user(platform)
    service = platform.service(NotificationService)
    quiet = await service.notify(user.id, "users.welcome", {}, via=())
    assert quiet.delivery_ids == ()
    with pytest.raises(ValueError, match="sensitive"):
        await service.notify(user.id, "access.code", {"code": "1"}, sensitive=True)


async def test_retries_until_sent_and_survives_channel_bugs(flaky):
    platform, channel = flaky
    user = await make_user(platform, "+7 900 100 20 30")
    service = platform.service(NotificationService)
    channel.answers = ["retry", "boom"]
    sent = await service.notify(user.id, "users.unblocked", {}, via=(PHONE,))
    delivery = sent.delivery_ids[0]
    assert await service.delivery_status(delivery) == "retry" and channel.sent == []
    row = await platform.db.fetchrow(
        "SELECT payload_enc, last_error FROM notifications_deliveries WHERE id = $1", delivery
    )
    assert row["payload_enc"] is not None and b"unblocked" not in bytes(row["payload_enc"]), "kept, encrypted"
    await platform.db.execute(
        "UPDATE notifications_deliveries SET next_attempt_at = now() WHERE id = $1", delivery
    )
    assert (await service.deliver_due())["retry"] == 1, "the channel's exception is a retry, not a loss"
    await platform.db.execute(
        "UPDATE notifications_deliveries SET next_attempt_at = now() WHERE id = $1", delivery
    )
    assert await service.deliver_due() == {"sent": 1}
    assert channel.sent[0].delivery_id == delivery and channel.sent[0].to == Address(PHONE, "+79001002030")
    assert (
        await platform.db.fetchval("SELECT payload_enc FROM notifications_deliveries WHERE id = $1", delivery)
        is None
    )


async def test_rejections_expiry_and_missing_channels(flaky):
    platform, channel = flaky
    service = platform.service(NotificationService)
    channel.answers = ["reject"]
    rejected = await service.send(Address(PHONE, "+79001112233"), "users.unblocked")
    assert await service.delivery_status(rejected) == "failed"
    nowhere = await service.send(Address("telegram", "@someone"), "users.unblocked")
    assert await service.delivery_status(nowhere) == "undeliverable"
    channel.answers = ["retry"]
    late = await service.send(Address(PHONE, "+79001112234"), "users.unblocked")
    await platform.db.execute(
        "UPDATE notifications_deliveries SET next_attempt_at = now(), "
        "expires_at = now() - interval '1 second' WHERE id = $1",
        late,
    )
    assert await service.deliver_due() == {"expired": 1}


async def test_a_crash_mid_send_is_picked_up(flaky):
    platform, channel = flaky
    service = platform.service(NotificationService)
    channel.answers = ["retry"]
    delivery = await service.send(Address(PHONE, "+79001112235"), "users.unblocked")
    await platform.db.execute(
        "UPDATE notifications_deliveries SET status = 'sending', "
        "claimed_at = now() - interval '10 minutes' WHERE id = $1",
        delivery,
    )
    await platform.db.execute(
        "UPDATE notifications_deliveries SET next_attempt_at = now() - interval '1 second' WHERE id = $1",
        delivery,
    )
    assert (await service.deliver_due()).get("sent") == 1


async def test_messages_speak_the_recipient_language(platform):
    ru = await make_user(platform, locale="ru")
    en = await make_user(platform, locale="en")
    service = platform.service(NotificationService)
    for user in (ru, en):
        await service.notify(user.id, "users.unblocked", {})
    outbox = platform.registry("notification_channels").get("outbox")
    assert (await outbox.latest(en.login)).subject == "Your account is unblocked"
    assert (await outbox.latest(ru.login)).subject == "Ваша учётная запись разблокирована"


async def test_pages_and_api(client, platform):
    user = await make_user(platform)
    service = platform.service(NotificationService)
    first = (await service.notify(user.id, "users.welcome", {}, via=())).notification_id
    await service.notify(user.id, "users.unblocked", {}, via=())
    token = await sign_in(client, user.login)
    page = await client.get("/notifications")
    assert page.status_code == 200 and page.text.count('class="panel unread"') == 2
    assert '<span class="badge ok" aria-label' in page.text, "the header shows the unread count"
    api = (await client.get("/api/v1/notifications", params={"unread": "true"})).json()
    assert api["unread"] == 2 and len(api["notifications"]) == 2
    assert (await client.post(f"/api/v1/notifications/{first}/read")).status_code == 204
    assert (await client.post(f"/api/v1/notifications/{uuid.uuid4()}/read")).status_code == 404
    assert (await client.post("/notifications/read-all", data={"csrf_token": token})).status_code == 303
    assert await service.unread_count(user.id) == 0


async def test_deleted_users_are_forgotten(platform):
    user = await make_user(platform)
    service = platform.service(NotificationService)
    await service.notify(user.id, "users.welcome", {}, via=(EMAIL,))
    await service.forget_user(user.id)
    assert await service.list_for(user.id) == []


async def test_paging_cursors_at_the_ends_of_time_are_not_server_errors(client, platform):
    user = await make_user(platform)
    await platform.service(NotificationService).notify(user.id, "users.welcome", {}, via=())
    await sign_in(client, user.login)
    for before, count in (("0001-01-01T00:00:00+14:00", 0), ("9999-12-31T23:59:59-14:00", 1)):
        page = await client.get("/notifications", params={"before": before})
        api = await client.get("/api/v1/notifications", params={"before": before})
        assert page.status_code == api.status_code == 200, (before, api.text)
        assert len(api.json()["notifications"]) == count
