from core.users.testing import latest_code


async def test_register_confirm_login(client, platform):
    page = await client.get("/register")
    assert page.status_code == 200, page.text
    r = await client.post("/api/v1/auth/register", json={"login": "zed@example.com", "password": "correct horse battery staple"})
    assert r.status_code == 202, r.text
    code = await latest_code(platform, "zed@example.com")
    r2 = await client.post("/api/v1/auth/register/confirm", json={"challenge_id": r.json()["challenge_id"], "code": code})
    assert r2.status_code == 200, r2.text
    r3 = await client.post("/api/v1/auth/login", json={"login": "zed@example.com", "password": "correct horse battery staple"})
    assert r3.status_code == 200, r3.text
    me = await client.get("/api/v1/users/me")
    assert me.status_code == 200, me.text
    account = await client.get("/account")
    assert account.status_code == 200, account.text
    print(account.text[:3000])
