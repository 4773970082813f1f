"""Admin user management: search, view, block, delete (four eyes), roles, statistics, nesting."""

from core.access.approvals import Approvals
from core.access.roles import Roles
from core.ledger import Ledger
from core.testing import app_client
from core.users.service import Users
from core.users.testing import make_user, sign_in
from tests.users.labels import unlabelled_fields
from tests.users.test_money_pages import fund

_open = []


async def admin_client(platform, app, roles=("admin",)):
    user = await make_user(platform, roles=("customer", *roles))
    context = app_client(platform, app=app)
    _open.append(context)  # keep the context alive until the test closes the client
    client = await context.__aenter__()
    await sign_in(client, user.login)
    client.user = user
    return client


async def test_search_filters_and_pages(client, platform):
    ann = await make_user(platform, "ann.search@example.com", display_name="Ann Search")
    await make_user(platform, "+7 903 111 22 33", display_name="Phone Person")
    blocked = await make_user(platform, "bob.search@example.com", status="blocked")
    admin = await admin_client(platform, client.app)
    assert (await admin.get("/api/v1/admin/users", params={"q": "ann.search"})).json()["users"][0][
        "id"
    ] == str(ann.id)
    by_phone = (await admin.get("/api/v1/admin/users", params={"q": "8 903 111-22-33"})).json()
    assert by_phone["total"] == 1 and by_phone["users"][0]["display_name"] == "Phone Person"
    by_status = (await admin.get("/api/v1/admin/users", params={"status": "blocked"})).json()
    assert [u["id"] for u in by_status["users"]] == [str(blocked.id)]
    by_id = (await admin.get("/api/v1/admin/users", params={"q": str(ann.id)})).json()
    assert by_id["total"] == 1
    by_role = (await admin.get("/api/v1/admin/users", params={"role": "admin"})).json()
    assert by_role["total"] == 1
    page = await admin.get("/admin/users", params={"q": "search", "status": "active"})
    assert page.status_code == 200 and "Ann Search" in page.text and "bob.search" not in page.text
    bad = await admin.get("/api/v1/admin/users", params={"status": "weird"})
    assert bad.status_code == 400
    await admin.aclose()


async def test_block_ends_sessions_and_unblock_restores(client, platform):
    victim = await make_user(platform)
    async with app_client(platform, app=client.app) as victim_client:
        await sign_in(victim_client, victim.login)
        admin = await admin_client(platform, client.app)
        missing_reason = await admin.post(f"/api/v1/admin/users/{victim.id}/block", json={"reason": ""})
        assert missing_reason.status_code == 400
        blocked = await admin.post(f"/api/v1/admin/users/{victim.id}/block", json={"reason": "fraud check"})
        assert blocked.status_code == 200 and blocked.json()["status"] == "executed", (
            "blocking needs no approval"
        )
        assert (await victim_client.get("/api/v1/users/me")).status_code == 401
        again = await admin.post(f"/api/v1/admin/users/{victim.id}/block", json={"reason": "twice"})
        assert again.status_code == 409
        assert (await admin.post(f"/api/v1/admin/users/{victim.id}/unblock")).status_code == 200
        assert (await platform.service(Users).get(victim.id)).status == "active"
        await admin.aclose()
    actions = [
        r["action"]
        for r in await platform.db.fetch(
            "SELECT action FROM audit_log WHERE target = $1 ORDER BY id", f"user:{victim.id}"
        )
    ]
    assert "users.blocked" in actions and "users.unblocked" in actions


async def test_delete_waits_for_a_second_admin_then_erases_personal_data(client, platform):
    victim = await make_user(platform, "+7 926 000 00 01", display_name="To Be Deleted")
    await platform.service(Users).set_personal_data(victim.id, itn="500100732259", passport="4510 123456")
    wallet = await fund(platform, victim, [123_45])
    maker = await admin_client(platform, client.app)
    checker = await admin_client(platform, client.app)
    asked = await maker.delete(f"/api/v1/admin/users/{victim.id}")
    assert asked.status_code == 202 and asked.json()["status"] == "pending"
    approval = asked.json()["approval_id"]
    assert (await platform.service(Users).get(victim.id)).status == "active", (
        "nothing happens before approval"
    )
    self_approval = await maker.post(f"/api/v1/admin/access/approvals/{approval}/approve", json={})
    assert self_approval.status_code == 403 and "another person" in self_approval.json()["detail"]
    approved = await checker.post(
        f"/api/v1/admin/access/approvals/{approval}/approve", json={"note": "checked"}
    )
    assert approved.status_code == 200 and approved.json()["status"] == "executed", approved.text
    row = await platform.db.fetchrow("SELECT * FROM users_users WHERE id = $1", victim.id)
    assert row["status"] == "deleted"
    for column in (
        "email",
        "phone_enc",
        "phone_bidx",
        "itn_enc",
        "itn_bidx",
        "passport_enc",
        "password_hash",
    ):
        assert row[column] is None, column
    assert row["display_name"] == ""
    assert await platform.service(Roles).roles_of(victim.id) == set()
    ledger = platform.service(Ledger)
    kept = await ledger.balance(wallet.id)
    assert kept.owner == f"user:{victim.id}" and kept.posted == 123_45, "the ledger keeps its records"
    assert len((await ledger.statement(wallet.id)).lines) == 1
    twice = await checker.post(f"/api/v1/admin/access/approvals/{approval}/approve", json={})
    assert twice.status_code == 409
    await maker.aclose()
    await checker.aclose()


async def test_nobody_manages_someone_above_them(client, platform):
    support = await admin_client(platform, client.app, roles=("support",))
    admin = await make_user(platform, roles=("customer", "admin"))
    await platform.service(Roles).set_permissions(
        "support", ["admin.access", "users.view", "users.block"], by=None
    )
    refused = await support.post(f"/api/v1/admin/users/{admin.id}/block", json={"reason": "revenge"})
    assert refused.status_code == 403 and "permissions you do not hold" in refused.json()["detail"]
    boss = await admin_client(platform, client.app)
    grant = await boss.post(f"/api/v1/admin/users/{support.user.id}/roles", json={"role": "superadmin"})
    assert grant.status_code == 403, "an admin cannot hand out superadmin"
    await support.aclose()
    await boss.aclose()


async def test_granting_a_role_is_four_eyes(client, platform):
    target = await make_user(platform)
    maker = await admin_client(platform, client.app)
    checker = await admin_client(platform, client.app)
    asked = await maker.post(f"/api/v1/admin/users/{target.id}/roles", json={"role": "support"})
    assert asked.status_code == 202
    listed = (await checker.get("/api/v1/admin/access/approvals")).json()
    assert [a["id"] for a in listed] == [asked.json()["approval_id"]]
    note = await platform.db.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2",
        checker.user.id,
        "access.approval_requested",
    )
    assert note == 1, "checkers are told there is work"
    done = await checker.post(
        f"/api/v1/admin/access/approvals/{asked.json()['approval_id']}/approve", json={}
    )
    assert done.json()["status"] == "executed"
    assert "support" in await platform.service(Roles).roles_of(target.id)
    await maker.aclose()
    await checker.aclose()


async def test_admin_pages_render(client, platform):
    target = await make_user(platform, display_name="Page Target")
    await platform.service(Users).set_personal_data(target.id, itn="500100732259")
    maker = await admin_client(platform, client.app)
    asked = await maker.post(f"/api/v1/admin/users/{target.id}/roles", json={"role": "support"})
    assert asked.status_code == 202, "a request waiting, so the approvals page shows its form"
    admin = await admin_client(platform, client.app, roles=("superadmin",))
    for path in (
        "/admin",
        "/admin/users",
        f"/admin/users/{target.id}",
        "/admin/users/stats",
        "/admin/access/roles",
        "/admin/access/roles/support",
        "/admin/access/approvals",
        "/admin/audit",
        "/admin/outbox",
    ):
        page = await admin.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert not unlabelled_fields(page.text), (path, unlabelled_fields(page.text))
    revealed = await admin.get(f"/admin/users/{target.id}/personal")
    assert "500100732259" in revealed.text
    viewed = await platform.db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'users.personal_data_viewed'"
    )
    assert viewed == 1
    stats = (await admin.get("/api/v1/admin/users/stats", params={"days": 7})).json()
    assert len(stats) == 7 and stats[-1]["active"] >= 1
    await admin.aclose()
    await maker.aclose()


async def test_form_actions_redirect_with_a_message(client, platform):
    target = await make_user(platform)
    admin = await admin_client(platform, client.app)
    token = admin.headers["x-csrf-token"]
    blocked = await admin.post(
        f"/admin/users/{target.id}/block", data={"reason": "test", "csrf_token": token}
    )
    assert blocked.status_code == 303 and "done=blocked" in blocked.headers["location"]
    deleted = await admin.post(
        f"/admin/users/{target.id}/delete", data={"reason": "gdpr", "csrf_token": token}
    )
    assert "done=pending" in deleted.headers["location"]
    pending = await platform.service(Approvals).list()
    assert pending[0].action == "users.delete" and pending[0].reason == "gdpr"
    await admin.aclose()


async def test_form_errors_echo_so_little_of_the_input_that_the_redirect_stays_short(client, platform):
    target = await make_user(platform)
    admin = await admin_client(platform, client.app, roles=("superadmin",))
    token = admin.headers["x-csrf-token"]
    huge = "x" * 10_000
    for path, form in (
        ("/admin/access/roles", {"code": "bulky", "permission": huge}),
        ("/admin/access/roles/support", {"permission": huge}),
        (f"/admin/users/{target.id}/roles", {"role": huge, "grant": "1"}),
    ):
        answer = await admin.post(path, data={**form, "csrf_token": token})
        assert answer.status_code == 303 and "error=" in answer.headers["location"], path
        assert len(answer.headers["location"]) < 1000, (path, len(answer.headers["location"]))
    await admin.aclose()
