"""Registration by e-mail or phone, confirmed by a code from the outbox; no account enumeration."""

import re

from core.users.service import Users
from core.users.testing import PASSWORD, latest_code, make_user


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def test_register_with_email_through_the_pages(client, platform):
    page = await client.get("/register")
    token = csrf_of(page.text)
    sent = await client.post(
        "/register",
        data={
            "login": "Olga@Example.com",
            "display_name": "Olga",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "csrf_token": token,
        },
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/register/confirm?challenge=")
    confirm_page = await client.get(sent.headers["location"])
    assert confirm_page.status_code == 200 and 'autocomplete="one-time-code"' in confirm_page.text
    challenge = sent.headers["location"].split("=", 1)[1]
    wrong = await client.post(
        "/register/confirm", data={"challenge": challenge, "code": "000000", "csrf_token": token}
    )
    assert wrong.status_code == 422 and "attempt(s) left" in wrong.text
    code = await latest_code(platform, "olga@example.com")
    done = await client.post(
        "/register/confirm", data={"challenge": challenge, "code": code, "csrf_token": token}
    )
    assert done.status_code == 303 and done.headers["location"] == "/login?done=registered"
    user = await platform.service(Users).find("olga@example.com")
    assert user.status == "active" and user.display_name == "Olga"
    from core.access.roles import Roles

    assert await platform.service(Roles).roles_of(user.id) == {"customer"}
    again = await client.post(
        "/register/confirm", data={"challenge": challenge, "code": code, "csrf_token": token}
    )
    assert again.status_code == 422, "a code is good once"


async def test_register_with_a_phone_stores_it_encrypted(client, platform):
    sent = await client.post(
        "/api/v1/auth/register", json={"login": "8 (999) 123-45-67", "password": PASSWORD}
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["sent_to"].startswith("+7")
    code = await latest_code(platform, "+79991234567")
    confirmed = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": sent.json()["challenge_id"], "code": code}
    )
    assert confirmed.status_code == 200 and confirmed.json()["user"]["phone"] == "+79991234567"
    row = await platform.db.fetchrow(
        "SELECT phone_enc, phone_bidx, email FROM users_users WHERE id = $1",
        __import__("uuid").UUID(confirmed.json()["user"]["id"]),
    )
    assert row["email"] is None and b"79991234567" not in bytes(row["phone_enc"])
    assert (await platform.service(Users).find("+7 999 123 45 67")) is not None, "found by blind index"


async def test_registering_a_taken_address_looks_the_same_and_warns_the_owner(client, platform):
    owner = await make_user(platform, "taken@example.com")
    fresh = await client.post(
        "/api/v1/auth/register", json={"login": "fresh@example.com", "password": PASSWORD}
    )
    taken = await client.post(
        "/api/v1/auth/register", json={"login": "taken@example.com", "password": PASSWORD}
    )
    assert fresh.status_code == taken.status_code == 202
    assert set(fresh.json()) == set(taken.json())
    outbox = platform.registry("notification_channels").get("outbox")
    warning = await outbox.latest("taken@example.com")
    assert warning.kind == "users.already_registered" and warning.user_id == owner.id
    guess = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": taken.json()["challenge_id"], "code": "123456"}
    )
    real_guess = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": fresh.json()["challenge_id"], "code": "000000"}
    )
    assert guess.status_code == real_guess.status_code == 422
    assert guess.json()["detail"] == real_guess.json()["detail"]


async def test_bad_input_is_a_clear_4xx(client):
    cases = [
        ({"login": "not an address", "password": PASSWORD}, "login"),
        ({"login": "ok@example.com", "password": "short"}, "password"),
        ({"login": "ok@example.com", "password": "123456789012"}, "password"),
        ({"login": "olga.k@example.com", "password": "my olga.k secret phrase"}, "password"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/auth/register", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["detail"].startswith(field)
    missing = await client.post("/api/v1/auth/register", json={"login": "x@example.com"})
    assert missing.status_code == 400 and "password" in missing.text


async def test_registration_can_be_closed(make_platform):
    from core.testing import app_client
    from core.users.testing import FAST_HASHING

    settings = {"core.users": {**FAST_HASHING["core.users"], "registration_open": False}}
    platform = await make_platform(settings=settings)
    async with app_client(platform) as client:
        response = await client.post(
            "/api/v1/auth/register", json={"login": "a@example.com", "password": PASSWORD}
        )
        assert response.status_code == 403


async def test_resend_gives_a_fresh_code_for_pending_accounts_only(client, platform):
    sent = await client.post(
        "/api/v1/auth/register", json={"login": "slow@example.com", "password": PASSWORD}
    )
    first = await latest_code(platform, "slow@example.com")
    again = await client.post(
        "/api/v1/auth/register/resend", json={"login": "slow@example.com", "password": PASSWORD}
    )
    assert again.status_code == 202 and again.json()["challenge_id"] != sent.json()["challenge_id"]
    second = await latest_code(platform, "slow@example.com")
    ok = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": again.json()["challenge_id"], "code": second}
    )
    assert ok.status_code == 200
    stale = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": sent.json()["challenge_id"], "code": first}
    )
    assert stale.status_code in (409, 422)


async def test_a_registration_resubmitted_by_someone_else_cannot_be_confirmed_with_the_first_code(
    client, platform
):
    """Pre-hijacking: a stranger re-registers the address with their own password; the owner's
    code must not confirm the stranger's password, and no code can be had without the password."""
    owner = await client.post(
        "/api/v1/auth/register", json={"login": "mine@example.com", "password": PASSWORD}
    )
    owner_code = await latest_code(platform, "mine@example.com")
    stranger_password = "the stranger knows this one"
    hijack = await client.post(
        "/api/v1/auth/register", json={"login": "mine@example.com", "password": stranger_password}
    )
    assert hijack.status_code == 202
    stale = await client.post(
        "/api/v1/auth/register/confirm",
        json={"challenge_id": owner.json()["challenge_id"], "code": owner_code},
    )
    assert stale.status_code == 422, "the code confirmed a password its owner never chose"
    resend = await client.post("/api/v1/auth/register/resend", json={"login": "mine@example.com"})
    assert resend.status_code == 400, "a new code only for whoever knows the password"
    wrong = await client.post(
        "/api/v1/auth/register/resend", json={"login": "mine@example.com", "password": PASSWORD}
    )
    assert wrong.status_code == 401
    # The owner registers again: their password, their code.
    again = await client.post(
        "/api/v1/auth/register", json={"login": "mine@example.com", "password": PASSWORD}
    )
    code = await latest_code(platform, "mine@example.com")
    done = await client.post(
        "/api/v1/auth/register/confirm", json={"challenge_id": again.json()["challenge_id"], "code": code}
    )
    assert done.status_code == 200
    signed_in = await client.post(
        "/api/v1/auth/login", json={"login": "mine@example.com", "password": stranger_password}
    )
    assert signed_in.status_code == 401


async def test_registering_a_taken_address_again_and_again_does_not_flood_its_owner(make_platform):
    from core.testing import app_client
    from core.users.testing import FAST_HASHING

    settings = {"core.users": {**FAST_HASHING["core.users"], "registrations_per_ip_hour": 100}}
    platform = await make_platform(settings=settings)
    await make_user(platform, "popular@example.com")
    async with app_client(platform) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/register", json={"login": "popular@example.com", "password": PASSWORD}
                )
            ).status_code
            for _ in range(8)
        ]
    assert statuses[:5] == [202] * 5 and set(statuses[5:]) == {429}
    outbox = platform.registry("notification_channels").get("outbox")
    assert len(await outbox.messages(address="popular@example.com")) == 5, "as many as codes would be"
