"""The audit log: append-only, attributed, searchable, exportable."""

import asyncpg
import pytest

from core.access.audit import AuditFilter, AuditLog
from core.access.context import acting_as
from core.users.testing import make_user, sign_in


async def test_entries_cannot_be_changed_or_removed(platform):
    log = platform.service(AuditLog)
    entry = await log.record(action="test.something", target="thing:1", details={"n": 1})
    for statement in (
        "UPDATE audit_log SET action = 'forged' WHERE id = $1",
        "DELETE FROM audit_log WHERE id = $1",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            async with platform.db.transaction():
                await platform.db.execute(statement, entry)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with platform.db.transaction():
            await platform.db.execute("TRUNCATE audit_log")
    assert (await log.search(AuditFilter(target="thing:1")))[0].action == "test.something"


async def test_actor_comes_from_the_context(platform):
    log = platform.service(AuditLog)
    with acting_as("cli:root"):
        await log.record(action="test.cli")
    await log.record(action="test.system")
    found = {e.action: e.actor for e in await log.search(AuditFilter(action="test.*"))}
    assert found == {"test.cli": "cli:root", "test.system": "system"}


async def test_search_filters_and_pages(platform):
    log = platform.service(AuditLog)
    for i in range(5):
        await log.record(action=f"paging.{'even' if i % 2 == 0 else 'odd'}", target=f"n:{i}")
    evens = await log.search(AuditFilter(action="paging.even"))
    assert [e.target for e in evens] == ["n:4", "n:2", "n:0"]
    first = await log.search(AuditFilter(action="paging.*"), limit=2)
    second = await log.search(AuditFilter(action="paging.*"), limit=2, before_id=first[-1].id)
    assert [e.target for e in first + second] == ["n:4", "n:3", "n:2", "n:1"]
    assert await log.search(AuditFilter(action="paging%")) == [], "LIKE wildcards in a filter are literal"


async def test_admins_view_filter_and_export(client, platform):
    viewer = await make_user(platform, roles=("customer", "finance"))
    await platform.service(AuditLog).record(action="test.formula", details={"note": '=HYPERLINK("x")'})
    await sign_in(client, viewer.login)
    page = await client.get("/admin/audit", params={"action": "auth.login"})
    assert page.status_code == 200 and "auth.login" in page.text
    api = await client.get("/api/v1/admin/audit", params={"action": "auth.*", "limit": 10})
    assert api.status_code == 200 and api.json()["entries"][0]["action"] == "auth.login"
    refused = await client.get("/admin/audit/export.csv")
    assert refused.status_code == 403, "finance reads the log but cannot export it"
    exporter = await make_user(platform, roles=("customer", "superadmin"))
    await sign_in(client, exporter.login)
    exported = await client.get("/admin/audit/export.csv", params={"action": "test.*"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("id,at,actor_id") and "test.formula" in lines[1]
    assert "'{" in lines[1] or "=HYPERLINK" not in lines[1].split(",")[6][:2], "no cell starts a formula"
    assert await platform.db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'audit.exported'") == 1
