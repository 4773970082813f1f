"""Sign-in: throttling per account and per IP, lock-out, blocked and unconfirmed accounts, audit."""

from core.access.audit import AuditFilter, AuditLog
from core.testing import app_client
from core.users.testing import FAST_HASHING, PASSWORD, make_user


async def login(client, login, password):
    return await client.post("/api/v1/auth/login", json={"login": login, "password": password})


async def count(platform, action, target=None):
    return await platform.db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND ($2::varchar IS NULL OR target = $2)",
        action,
        target,
    )


async def test_a_hundred_wrong_passwords_are_throttled_and_audited(client, platform):
    user = await make_user(platform)
    statuses = [(await login(client, user.login, f"wrong guess number {i}")).status_code for i in range(100)]
    assert statuses[:5] == [401] * 5, "the first failures are plain 401s"
    assert set(statuses[5:]) == {429}, "then every attempt is refused without checking the password"
    throttled = await login(client, user.login, "wrong guess number 101")
    assert "Retry-After" in throttled.headers and "try again in" in throttled.json()["detail"]
    assert await count(platform, "auth.login.failed", f"user:{user.id}") == 5
    # The refusals are audited once a minute per login, so a flood cannot flood the log.
    assert await count(platform, "auth.login.throttled") == 1
    # The right password does not get through while throttled either.
    assert (await login(client, user.login, PASSWORD)).status_code == 429
    entry = (await platform.service(AuditLog).search(AuditFilter(action="auth.login.failed"), limit=1))[0]
    assert entry.ip == "127.0.0.1" and user.login not in str(entry.details), "no plain login in the log"


async def test_other_accounts_are_throttled_per_ip(make_platform):
    settings = {"core.users": {**FAST_HASHING["core.users"], "login_failures_per_ip": 8}}
    platform = await make_platform(settings=settings)
    users = [await make_user(platform) for _ in range(3)]
    async with app_client(platform) as client:
        statuses = [
            (await login(client, users[i % 3].login, "a wrong password")).status_code for i in range(12)
        ]
    assert statuses[:8] == [401] * 8 and set(statuses[8:]) == {429}


async def test_lockout_after_consecutive_failures_tells_the_owner(make_platform):
    settings = {
        "core.users": {**FAST_HASHING["core.users"], "login_failures_per_account": 50, "lockout_after": 3}
    }
    platform = await make_platform(settings=settings)
    user = await make_user(platform)
    async with app_client(platform) as client:
        assert [(await login(client, user.login, "a wrong password")).status_code for _ in range(3)] == [
            401
        ] * 3
        locked = await login(client, user.login, PASSWORD)
        assert locked.status_code == 429 and "locked" in locked.json()["detail"]
    assert await count(platform, "auth.login.locked", f"user:{user.id}") == 1
    notice = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert notice.kind == "users.locked"
    await platform.db.execute(
        "UPDATE users_users SET locked_until = now() - interval '1 second' WHERE id = $1", user.id
    )
    async with app_client(platform) as client:
        assert (await login(client, user.login, PASSWORD)).status_code == 200
    assert await platform.db.fetchval("SELECT failed_logins FROM users_users WHERE id = $1", user.id) == 0


async def test_success_is_audited_and_resets_the_account_counter(client, platform):
    user = await make_user(platform)
    for _ in range(4):
        await login(client, user.login, "a wrong password")
    assert (await login(client, user.login, PASSWORD)).status_code == 200
    client.cookies.clear()
    assert (await login(client, user.login, "a wrong password")).status_code == 401, (
        "the window starts afresh"
    )
    assert await count(platform, "auth.login", f"user:{user.id}") == 1


async def test_blocked_and_unconfirmed_accounts_cannot_sign_in(client, platform):
    blocked = await make_user(platform, status="blocked")
    pending = await make_user(platform, status="pending")
    response = await login(client, blocked.login, PASSWORD)
    assert response.status_code == 403 and "blocked" in response.json()["detail"]
    assert (await login(client, blocked.login, "a wrong password")).status_code == 401, (
        "nothing told without the password"
    )
    response = await login(client, pending.login, PASSWORD)
    assert response.status_code == 403 and "confirm" in response.json()["detail"]
    assert await count(platform, "auth.login.refused", f"user:{blocked.id}") == 1


async def test_sign_in_with_a_phone(client, platform):
    user = await make_user(platform, "+7 912 000-11-22")
    assert user.phone == "+79120001122"
    assert (await login(client, "89120001122", PASSWORD)).status_code == 200


async def test_garbage_logins_are_refused_politely(client):
    for value in ("", "@", "+", "x" * 320, "'; DROP TABLE users_users; --", "\u0000"):
        response = await login(client, value, "whatever password")
        assert response.status_code in (400, 401, 429), (value, response.status_code)


async def test_every_lock_is_audited_not_only_the_first(make_platform):
    settings = {
        "core.users": {**FAST_HASHING["core.users"], "login_failures_per_account": 50, "lockout_after": 3}
    }
    platform = await make_platform(settings=settings)
    user = await make_user(platform)
    async with app_client(platform) as client:
        for _ in range(3):
            await login(client, user.login, "a wrong password")
        await platform.db.execute(
            "UPDATE users_users SET locked_until = now() - interval '1 second' WHERE id = $1", user.id
        )
        assert (await login(client, user.login, "still wrong")).status_code == 401
        # Still failing in a row: the account locks again at once, and the log says so.
        assert (await login(client, user.login, PASSWORD)).status_code == 429
    assert await count(platform, "auth.login.locked", f"user:{user.id}") == 2


async def test_a_login_without_an_account_locks_the_same_way(make_platform):
    """Were only real accounts locked, the lock would tell who has an account."""
    settings = {
        "core.users": {**FAST_HASHING["core.users"], "login_failures_per_account": 50, "lockout_after": 3}
    }
    platform = await make_platform(settings=settings)
    user = await make_user(platform)
    answers = {}
    async with app_client(platform) as client:
        for who in (user.login, "nobody-here@example.com"):
            statuses = [(await login(client, who, "a wrong password")).status_code for _ in range(3)]
            assert statuses == [401] * 3, who
            answers[who] = await login(client, who, "a wrong password")
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert known.json()["detail"] == unknown.json()["detail"]
    assert abs(int(known.headers["retry-after"]) - int(unknown.headers["retry-after"])) <= 5
