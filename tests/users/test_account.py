"""Password reset and change, contact changes, profile and encrypted personal data."""

import uuid

from core.users.sessions import Sessions
from core.users.testing import PASSWORD, latest_code, make_user, sign_in

NEW = "a brand new passphrase 2026"


async def test_password_reset_with_a_code_ends_every_session(client, platform):
    user = await make_user(platform)
    await platform.service(Sessions).create(user.id, ip=None, user_agent=None)
    await platform.service(Sessions).create_token(user.id, "script")
    started = await client.post("/api/v1/auth/password/forgot", json={"login": user.login})
    assert started.status_code == 202
    code = await latest_code(platform, user.login)
    weak = await client.post(
        "/api/v1/auth/password/reset",
        json={"challenge_id": started.json()["challenge_id"], "code": code, "new_password": "short"},
    )
    assert weak.status_code == 400, "the policy is checked before the code is spent"
    done = await client.post(
        "/api/v1/auth/password/reset",
        json={"challenge_id": started.json()["challenge_id"], "code": code, "new_password": NEW},
    )
    assert done.status_code == 204, done.text
    assert await platform.service(Sessions).list(user.id) == []
    assert await platform.service(Sessions).list_tokens(user.id) == []
    assert (
        await client.post("/api/v1/auth/login", json={"login": user.login, "password": PASSWORD})
    ).status_code == 401
    assert (
        await client.post("/api/v1/auth/login", json={"login": user.login, "password": NEW})
    ).status_code == 200
    notice = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert notice.kind == "users.password_changed"


async def test_reset_for_an_unknown_login_looks_the_same(client, platform):
    known = await make_user(platform)
    a = await client.post("/api/v1/auth/password/forgot", json={"login": known.login})
    b = await client.post("/api/v1/auth/password/forgot", json={"login": "ghost@example.com"})
    assert a.status_code == b.status_code == 202 and set(a.json()) == set(b.json())
    for response in (a, b):
        guess = await client.post(
            "/api/v1/auth/password/reset",
            json={"challenge_id": response.json()["challenge_id"], "code": "999999", "new_password": NEW},
        )
        assert guess.status_code == 422 and "attempt(s) left" in guess.json()["detail"]
    outbox = platform.registry("notification_channels").get("outbox")
    assert await outbox.latest("ghost@example.com") is None, "nothing is sent to an address with no account"


async def test_reset_for_an_unknown_login_takes_as_long_as_sending_a_code(client, platform):
    """With a slow SMS provider, a quick answer would tell that no account exists."""
    import time

    from core.notifications.service import NotificationService

    notifications = platform.service(NotificationService)
    known = await make_user(platform)
    await client.post("/api/v1/auth/password/forgot", json={"login": known.login})
    assert notifications.typical_code_delivery_s > 0, "real deliveries of codes are timed"
    notifications.typical_code_delivery_s = 0.5  # as if the provider took half a second
    started = time.perf_counter()
    decoy = await client.post("/api/v1/auth/password/forgot", json={"login": "ghost@example.com"})
    assert decoy.status_code == 202 and time.perf_counter() - started >= 0.4


async def test_change_password_keeps_this_session_only(client, platform):
    user = await make_user(platform)
    other = await platform.service(Sessions).create(user.id, ip=None, user_agent=None)
    await sign_in(client, user.login)
    wrong = await client.post(
        "/api/v1/users/me/password", json={"current_password": "nope nope nope", "new_password": NEW}
    )
    assert wrong.status_code == 400 and wrong.json()["detail"].startswith("current_password")
    ok = await client.post(
        "/api/v1/users/me/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert ok.status_code == 204
    assert (await client.get("/api/v1/users/me")).status_code == 200, "this session goes on"
    assert await platform.service(Sessions).resolve(other.token) is None, "the other one ended"


async def test_change_email_needs_the_password_and_a_code_to_the_new_address(client, platform):
    user = await make_user(platform)
    await make_user(platform, "someone.else@example.com")
    await sign_in(client, user.login)
    taken = await client.post(
        "/api/v1/users/me/contact",
        json={"kind": "email", "value": "someone.else@example.com", "password": PASSWORD},
    )
    assert taken.status_code == 409
    started = await client.post(
        "/api/v1/users/me/contact",
        json={"kind": "email", "value": "New.Me@Example.com", "password": PASSWORD},
    )
    assert started.status_code == 202
    code = await latest_code(platform, "new.me@example.com")
    other_address = await client.post(
        "/api/v1/users/me/contact/confirm",
        json={
            "challenge_id": started.json()["challenge_id"],
            "code": code,
            "kind": "email",
            "value": "evil@example.com",
        },
    )
    assert other_address.status_code == 422 and "different operation" in other_address.json()["detail"]
    done = await client.post(
        "/api/v1/users/me/contact/confirm",
        json={
            "challenge_id": started.json()["challenge_id"],
            "code": code,
            "kind": "email",
            "value": "new.me@example.com",
        },
    )
    assert done.status_code == 200 and done.json()["user"]["email"] == "new.me@example.com"
    old_notice = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert old_notice.kind == "users.contact_changed"


async def test_add_a_phone(client, platform):
    user = await make_user(platform)
    await sign_in(client, user.login)
    started = await client.post(
        "/api/v1/users/me/contact", json={"kind": "phone", "value": "+7 916 555 0000", "password": PASSWORD}
    )
    code = await latest_code(platform, "+79165550000")
    done = await client.post(
        "/api/v1/users/me/contact/confirm",
        json={
            "challenge_id": started.json()["challenge_id"],
            "code": code,
            "kind": "phone",
            "value": "+79165550000",
        },
    )
    assert done.json()["user"]["phone"] == "+79165550000"


async def test_personal_data_is_validated_encrypted_and_masked(client, platform):
    user = await make_user(platform)
    await sign_in(client, user.login)
    bad = await client.put("/api/v1/users/me/personal-data", json={"itn": "500100732250"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("itn")
    ok = await client.put(
        "/api/v1/users/me/personal-data", json={"itn": "500100732259", "passport": "4510 123456"}
    )
    assert ok.status_code == 200 and ok.json() == {"itn": "50••••••••59", "passport": "45•••••••56"}
    row = await platform.db.fetchrow("SELECT itn_enc, passport_enc FROM users_users WHERE id = $1", user.id)
    assert b"500100732259" not in bytes(row["itn_enc"]) and b"123456" not in bytes(row["passport_enc"])
    from core.users.service import Users

    found = await platform.service(Users).find_by_itn("5001 0073 2259")
    assert [u.id for u in found] == [user.id], "exact match through the blind index"
    cleared = await client.put("/api/v1/users/me/personal-data", json={"passport": ""})
    assert cleared.json()["passport"] == ""


async def test_profile_page_and_form(client, platform):
    user = await make_user(platform, display_name="Old Name")
    token = await sign_in(client, user.login)
    page = await client.get("/account/profile")
    assert page.status_code == 200 and "Old Name" in page.text
    saved = await client.post(
        "/account/profile", data={"display_name": "  New\u0000 Name ", "locale": "ru", "csrf_token": token}
    )
    assert saved.status_code == 303 and "lang=ru" in saved.headers["set-cookie"]
    me = (await client.get("/api/v1/users/me")).json()["user"]
    assert me["display_name"] == "New Name" and me["locale"] == "ru"
    # A post without the fields (not from the form, or its body lost) leaves the profile alone.
    assert (await client.post("/account/profile", data={"csrf_token": token})).status_code == 303
    me = (await client.get("/api/v1/users/me")).json()["user"]
    assert me["display_name"] == "New Name" and me["locale"] == "ru"
    wrong = await client.post("/account/personal", data={"itn": "123", "csrf_token": token})
    assert wrong.status_code == 400 and "ИНН" in wrong.text, "the user's own language from now on"


async def test_security_page_lists_sessions_and_makes_tokens(client, platform):
    user = await make_user(platform)
    token = await sign_in(client, user.login)
    page = await client.get("/account/security")
    assert page.status_code == 200 and "this one" in page.text
    made = await client.post(
        "/account/tokens",
        data={"name": "backup script", "days": "7", "password": PASSWORD, "csrf_token": token},
    )
    assert made.status_code == 200 and "kpt_" in made.text
    token_id = (await platform.service(Sessions).list_tokens(user.id))[0].id
    revoked = await client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303 and await platform.service(Sessions).list_tokens(user.id) == []
    missing = await client.delete(f"/api/v1/users/me/sessions/{uuid.uuid4()}")
    assert missing.status_code == 404


async def test_sign_out_everywhere_else(client, platform):
    user = await make_user(platform)
    elsewhere = await platform.service(Sessions).create(user.id, ip=None, user_agent="old phone")
    token = await sign_in(client, user.login)
    page = await client.get("/account/security")
    assert "End all other sessions" in page.text
    ended = await client.post("/account/sessions/end-others", data={"csrf_token": token})
    assert ended.status_code == 303
    assert await platform.service(Sessions).resolve(elsewhere.token) is None
    assert (await client.get("/api/v1/users/me")).status_code == 200
    assert (await client.delete("/api/v1/users/me/sessions")).json() == {"ended": 0}


async def test_every_field_of_the_customer_pages_has_a_label(client, platform):
    from tests.users.labels import unlabelled_fields

    anonymous = ("/login", "/register", "/register/confirm", "/register/resend", "/password/forgot")
    for path in (*anonymous, "/password/reset"):
        page = await client.get(path)
        assert page.status_code == 200 and not unlabelled_fields(page.text), path
    user = await make_user(platform)
    await sign_in(client, user.login)
    for path in ("/account", "/account/profile", "/account/security", "/account/contact", "/notifications"):
        page = await client.get(path)
        assert page.status_code == 200 and not unlabelled_fields(page.text), path
