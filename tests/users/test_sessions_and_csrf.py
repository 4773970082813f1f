"""Sessions (cookie flags, fixation, expiry, sign-out) and the CSRF rules."""

import re

from litestar import Request, post

from core import hookimpl
from core.testing import app_client
from core.users.sessions import Sessions, token_hash
from core.users.testing import PASSWORD, make_user, sign_in


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


async def form_login(client, login, password=PASSWORD, next_path="/account"):
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"login": login, "password": password, "next": next_path, "csrf_token": csrf_of(page.text)},
    )


async def test_sign_in_form_sets_a_safe_cookie_and_a_new_session(client, platform):
    user = await make_user(platform)
    client.cookies.set("kopilka_session", "planted-by-an-attacker")
    response = await form_login(client, user.login)
    assert response.status_code == 303 and response.headers["location"] == "/account"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("kopilka_session="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token != "planted-by-an-attacker" and len(token) >= 40
    stored = await platform.db.fetchval(
        "SELECT count(*) FROM users_sessions WHERE token_hash = $1", token_hash(token)
    )
    assert stored == 1, "only the hash of the token is stored"
    page = await client.get("/account")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_sign_in_only_redirects_on_site(client, platform):
    user = await make_user(platform)
    response = await form_login(client, user.login, next_path="//evil.example/")
    assert response.headers["location"] == "/account"


async def test_wrong_password_shows_the_form_again_without_saying_which_part(client, platform):
    user = await make_user(platform)
    wrong = await form_login(client, user.login, "not the password at all")
    unknown = await form_login(client, "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong login or password" in wrong.text and "wrong login or password" in unknown.text


async def test_sign_out_ends_the_session(client, platform):
    user = await make_user(platform)
    await form_login(client, user.login)
    page = await client.get("/account/security")
    response = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert (await client.get("/account")).status_code in (302, 303)
    open_sessions = await platform.db.fetchval(
        "SELECT count(*) FROM users_sessions WHERE user_id = $1 AND revoked_at IS NULL", user.id
    )
    assert open_sessions == 0


async def test_idle_and_old_sessions_end(client, platform):
    user = await make_user(platform)
    await sign_in(client, user.login)
    assert (await client.get("/api/v1/users/me")).status_code == 200
    await platform.db.execute(
        "UPDATE users_sessions SET last_seen_at = now() - interval '2 hours' WHERE user_id = $1", user.id
    )
    gone = await client.get("/api/v1/users/me")
    assert gone.status_code == 401
    assert any("kopilka_session=;" in c or "Max-Age=0" in c for c in gone.headers.get_list("set-cookie"))


async def test_session_requests_need_the_csrf_token(client, platform):
    user = await make_user(platform)
    token = await sign_in(client, user.login)
    del client.headers["x-csrf-token"]
    refused = await client.patch("/api/v1/users/me", json={"display_name": "Mallory"})
    assert refused.status_code == 403 and "security token" in refused.json()["detail"]
    wrong = await client.patch(
        "/api/v1/users/me", json={"display_name": "Mallory"}, headers={"x-csrf-token": "nope"}
    )
    assert wrong.status_code == 403
    ok = await client.patch("/api/v1/users/me", json={"display_name": "Ann"}, headers={"x-csrf-token": token})
    assert ok.status_code == 200
    form = await client.post(
        "/account/profile", data={"display_name": "Ann B", "locale": "en", "csrf_token": token}
    )
    assert form.status_code == 303
    assert await platform.service(Sessions).list(user.id)


async def test_api_tokens_need_no_csrf_and_end_with_revocation(client, platform):
    user = await make_user(platform)
    await sign_in(client, user.login)
    no_password = await client.post(
        "/api/v1/users/me/tokens", json={"name": "script", "password": "guess guess guess"}
    )
    assert no_password.status_code == 400, "making a token asks for the password again"
    made = await client.post(
        "/api/v1/users/me/tokens", json={"name": "script", "days": 30, "password": PASSWORD}
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    async with app_client(platform, app=client.app) as program:
        program.headers["authorization"] = f"Bearer {token}"
        assert (await program.patch("/api/v1/users/me", json={"locale": "ru"})).status_code == 200
        assert (await client.delete(f"/api/v1/users/me/tokens/{made.json()['id']}")).status_code == 204
        refused = await program.get("/api/v1/users/me")
        assert refused.status_code == 401 and "API token" in refused.json()["detail"]


async def test_anonymous_forms_carry_a_double_submit_token(client, platform):
    user = await make_user(platform)
    no_token = await client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert no_token.status_code == 403
    page = await client.get("/login")
    forged = await client.post(
        "/login", data={"login": user.login, "password": PASSWORD, "csrf_token": "abc.def"}
    )
    assert forged.status_code == 403
    good = await client.post(
        "/login", data={"login": user.login, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert good.status_code == 303


async def test_anonymous_api_and_provider_callbacks_need_no_csrf(make_platform):
    from core.users.testing import FAST_HASHING

    @post("/api/v1/fakepay/callbacks/notify", status_code=200)
    async def callback(request: Request) -> dict:
        return {"ok": True, "form": dict(await request.form())}

    class FakePay:
        @hookimpl
        def routes(self):
            return [callback]

    platform = await make_platform(settings=FAST_HASHING, extra_plugins={"fakepay": FakePay()})
    async with app_client(platform) as provider:
        answer = await provider.post(
            "/api/v1/fakepay/callbacks/notify", data={"order": "1", "status": "paid"}
        )
        assert answer.status_code == 200 and answer.json()["form"] == {"order": "1", "status": "paid"}
        # The JSON-only sign-in API refuses a cross-site "simple" request outright.
        plain = await provider.post(
            "/api/v1/auth/login",
            content=b'{"login":"a@b.c","password":"x"}',
            headers={"content-type": "text/plain"},
        )
        assert plain.status_code == 415


async def test_identity_from_the_testing_kit_is_kept(client_as):
    http = await client_as("users.view")
    response = await http.get("/api/v1/admin/users")
    assert response.status_code == 200
    # and it needs no CSRF token: the kit stands in for a signed-in browser
    assert (
        await http.post("/api/v1/admin/users/00000000-0000-4000-8000-000000000000/unblock")
    ).status_code in (403, 404)


async def test_anonymous_json_needs_no_csrf_but_a_cross_site_form_does(make_platform):
    from core.users.testing import FAST_HASHING

    @post("/probe/echo", status_code=200)
    async def echo(request: Request) -> dict:
        return {"ok": True}

    class Probe:
        @hookimpl
        def routes(self):
            return [echo]

    platform = await make_platform(settings=FAST_HASHING, extra_plugins={"probe": Probe()})
    async with app_client(platform) as anonymous:
        assert (await anonymous.post("/probe/echo", json={"a": 1})).status_code == 200
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ):
            forged = await anonymous.post(
                "/probe/echo", content=b"a=1", headers={"content-type": content_type}
            )
            assert forged.status_code == 403, content_type


async def test_signing_out_is_audited_and_clears_a_secure_cookie(make_platform):
    from core.users.testing import FAST_HASHING

    platform = await make_platform(settings=FAST_HASHING, core={"web": {"cookie_secure": True}})
    user = await make_user(platform)
    async with app_client(platform, base_url="https://testserver") as client:
        for path in ("/api/v1/auth/logout", "/logout"):
            token = await sign_in(client, user.login)
            answer = await client.post(path, headers={"x-csrf-token": token})
            assert answer.status_code in (204, 303), answer.text
            cleared = [
                c for c in answer.headers.get_list("set-cookie") if c.startswith("__Host-kopilka_session=")
            ]
            # A __Host- cookie without Secure is ignored by browsers: it would stay behind.
            assert cleared and "secure" in cleared[0].lower() and "max-age=0" in cleared[0].lower(), cleared
            assert not client.cookies.get("__Host-kopilka_session"), path
    signed_out = await platform.db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'auth.logout' AND target = $1", f"user:{user.id}"
    )
    assert signed_out == 2
