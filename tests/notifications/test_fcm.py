"""notify.fcm: the service-account JWT grant, access tokens, devices, UNREGISTERED, the device API."""

import time
import uuid

from core.contracts.notifications import DeliveryStatus, OutgoingMessage
from core.notifications.service import NotificationService
from core.users.testing import make_user
from plugins.notify.fcm.auth import SCOPE, ServiceAccount, sandbox_account, verified_claims
from plugins.notify.fcm.channel import push_address
from plugins.notify.fcm.devices import PushDevices
from plugins.notify.testing import PROVIDERS, serve


def push(user_id, delivery_id=None) -> OutgoingMessage:
    return OutgoingMessage(delivery_id or uuid.uuid4(), "users.unblocked", push_address(user_id), "Welcome back",
                           "You can sign in again.", "en")


async def fcm_platform(make_platform, running, **settings):
    platform = await make_platform(["notify.fcm"], settings=running.settings(**settings))
    return platform, platform.registry("notification_channels").get("fcm")


def test_the_assertion_is_an_rs256_jwt_with_the_documented_claims():
    account = sandbox_account()
    now = time.time()
    claims = verified_claims(account.assertion("https://oauth2.googleapis.com/token", now), account.public_key_pem())
    assert claims == {"iss": account.client_email, "scope": SCOPE, "aud": "https://oauth2.googleapis.com/token",
                      "iat": int(now), "exp": int(now) + 3600}
    other = ServiceAccount.generated("p", "x@p.iam.gserviceaccount.com", "https://t/token")
    try:
        verified_claims(other.assertion("https://t/token"), account.public_key_pem())
        raise AssertionError("a JWT signed with another key verified")
    except ValueError as exc:
        assert "signature" in str(exc)


async def test_grant_token_reuse_and_a_fresh_token_after_401(make_platform):
    async with serve(PROVIDERS["notify.fcm"]) as running:
        platform, channel = await fcm_platform(make_platform, running)
        user = await make_user(platform)
        await platform.service(PushDevices).register(user.id, "device-token-aaaaaaaaaaaa", "android")
        sent = await channel.send(push(user.id))
        assert sent.status is DeliveryStatus.SENT and sent.provider_ref.startswith("projects/kopilka-sandbox/messages/")
        emulator = running.emulator
        assert [g["aud"] for g in emulator.grants] == [f"{running.url}/token"]
        got = emulator.latest("device-token-aaaaaaaaaaaa")
        assert got.subject == "Welcome back" and got.text == "You can sign in again."
        assert got.request["data"]["kind"] == "users.unblocked"
        assert (await channel.send(push(user.id))).status is DeliveryStatus.SENT
        assert len(emulator.grants) == 1, "the access token is kept"
        emulator.expire_tokens()
        assert (await channel.send(push(user.id))).status is DeliveryStatus.SENT
        assert len(emulator.grants) == 2, "401: a new token, and the push goes"


async def test_a_key_the_token_endpoint_does_not_know_is_a_retry(make_platform):
    async with serve(PROVIDERS["notify.fcm"]) as running:
        stranger = ServiceAccount.generated("kopilka-sandbox", "push@kopilka-sandbox.iam.gserviceaccount.com", "")
        platform, channel = await fcm_platform(make_platform, running, service_account=stranger.to_json())
        user = await make_user(platform)
        await platform.service(PushDevices).register(user.id, "device-token-bbbbbbbbbbbb", "ios")
        result = await channel.send(push(user.id))
        assert result.status is DeliveryStatus.RETRY and "signature" in result.error
        assert running.emulator.messages == []


async def test_unregistered_tokens_go_and_a_retry_skips_reached_devices(make_platform):
    async with serve(PROVIDERS["notify.fcm"]) as running:
        platform, channel = await fcm_platform(make_platform, running)
        devices = platform.service(PushDevices)
        user = await make_user(platform)
        for token in ("phone-token-111111111111", "tablet-token-22222222222", "old-token-3333333333333"):
            await devices.register(user.id, token, "android")
        running.emulator.unregistered.add("old-token-3333333333333")
        message = push(user.id)
        assert (await channel.send(message)).status is DeliveryStatus.SENT
        assert [d.token for d in await devices.of_user(user.id)] == ["phone-token-111111111111",
                                                                    "tablet-token-22222222222"]
        assert len(running.emulator.messages) == 2
        again = await channel.send(message)
        assert again.status is DeliveryStatus.SENT and len(running.emulator.messages) == 2, "not sent twice"
        for device in await devices.of_user(user.id):
            running.emulator.unregistered.add(device.token)
        gone = await channel.send(push(user.id))
        assert gone.status is DeliveryStatus.REJECTED and "no registered device" in gone.error
        assert await devices.of_user(user.id) == []


async def test_the_service_pushes_to_a_user(make_platform):
    async with serve(PROVIDERS["notify.fcm"]) as running:
        platform = await make_platform(["notify.fcm"], settings=running.settings())
        user = await make_user(platform)
        await platform.service(PushDevices).register(user.id, "device-token-cccccccccccc", "web")
        service = platform.service(NotificationService)
        sent = await service.notify(user.id, "users.unblocked", {}, to=push_address(user.id))
        assert await service.delivery_status(sent.delivery_ids[0]) == "sent"
        assert running.emulator.latest("device-token-cccccccccccc").text == "You can sign in again."


async def test_the_device_api(platform, client_as, client):
    user = await make_user(platform)
    other = await make_user(platform)
    mine = await client_as(user_id=user.id)
    assert (await client.get("/api/v1/notify/push/devices")).status_code == 401
    created = await mine.post("/api/v1/notify/push/devices", json={"token": "fcm-token-abcdefghijkl:XYZ",
                                                                   "platform": "android"})
    assert created.status_code == 201 and created.json()["token_end"] == "kl:XYZ", created.text
    bad = await mine.post("/api/v1/notify/push/devices", json={"token": "short", "platform": "symbian"})
    assert bad.status_code == 400 and "token" in bad.text and "platform" in bad.text
    listed = (await mine.get("/api/v1/notify/push/devices")).json()
    assert [d["id"] for d in listed] == [created.json()["id"]] and "token" not in listed[0]
    theirs = await client_as(user_id=other.id)
    assert (await theirs.delete(f"/api/v1/notify/push/devices/{listed[0]['id']}")).status_code == 404
    assert (await theirs.post("/api/v1/notify/push/devices/unregister",
                              json={"token": "fcm-token-abcdefghijkl:XYZ"})).status_code == 404
    assert (await mine.post("/api/v1/notify/push/devices/unregister",
                            json={"token": "fcm-token-abcdefghijkl:XYZ"})).status_code == 204
    assert (await mine.get("/api/v1/notify/push/devices")).json() == []
    assert (await mine.delete("/api/v1/notify/push/devices/99999999999999999999")).status_code == 400


async def test_the_sandbox_keeps_one_key_for_the_server_and_the_worker(make_platform, tmp_path):
    from plugins.notify.fcm.auth import sandbox_account

    core = {"platform": {"sandbox": True, "data_dir": str(tmp_path / "sandboxed")}}
    server = await make_platform(["notify.fcm"], core=core)
    channel = server.registry("notification_channels").get("fcm")
    assert channel.tokens.token_uri.endswith("/sandbox/fcm/token") and channel.http.base_url.endswith("/sandbox/fcm")
    kept = tmp_path / "sandboxed" / "sandbox" / "fcm-service-account.json"
    assert kept.exists() and oct(kept.stat().st_mode & 0o777) == "0o600"
    sandbox_account.cache_clear()  # as if in another process
    worker = await make_platform(["notify.fcm"], core=core)
    assert worker.registry("notification_channels").get("fcm").tokens.account == channel.tokens.account
