"""User B cannot read or change user A's data through any route (IDOR)."""

from core.access.testing import assert_no_idor
from core.notifications.service import NotificationService
from core.testing import app_client
from core.users.sessions import Sessions
from core.users.testing import make_user, sign_in


async def test_user_b_cannot_reach_user_a_objects(client, platform):
    a = await make_user(platform, "alice.idor@example.com", display_name="Alice Secret")
    b = await make_user(platform, "bob.idor@example.com")
    sessions = platform.service(Sessions)
    a_other_session = await sessions.create(a.id, ip=None, user_agent=None)
    _token, a_token_id = await sessions.create_token(a.id, "alice script")
    a_note = (
        await platform.service(NotificationService).notify(a.id, "users.welcome", {}, via=())
    ).notification_id

    async def snapshot():
        return (
            len(await sessions.list(a.id)),
            len(await sessions.list_tokens(a.id)),
            await platform.db.fetchval("SELECT read_at FROM notifications WHERE id = $1", a_note),
            await platform.db.fetchval("SELECT display_name FROM users_users WHERE id = $1", a.id),
        )

    async with app_client(platform, app=client.app) as as_a, app_client(platform, app=client.app) as as_b:
        await sign_in(as_a, a.login)
        await sign_in(as_b, b.login)
        cases = await assert_no_idor(
            client.app,
            owner=as_a,
            intruder=as_b,
            ids={"session_id": a_other_session.id, "token_id": a_token_id, "notification_id": a_note},
            snapshot=snapshot,
            leak_markers=[a.login, "Alice Secret"],
        )
        # The "me" routes take no id at all: whatever B sends, they act on B.
        assert (await as_b.patch("/api/v1/users/me", json={"display_name": "Mallory"})).status_code == 200
        for path in (
            "/api/v1/users/me",
            "/api/v1/users/me/sessions",
            "/api/v1/users/me/tokens",
            "/api/v1/notifications",
            "/account/profile",
            "/account/security",
        ):
            answer = (await as_b.get(path)).text
            assert a.login not in answer and "Alice Secret" not in answer and str(a_token_id) not in answer, (
                path
            )
    assert (await snapshot())[3] == "Alice Secret"
    templates = {c.template for c in cases}
    assert "/api/v1/users/me/sessions/{session_id:uuid}" in templates
    assert "/notifications/{notification_id:uuid}/read" in templates
    assert "/account/tokens/{token_id:uuid}/revoke" in templates
