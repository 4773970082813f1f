"""`kopilka db migrate` and `db status` on an empty database: exactly the enabled apps, in dependency order."""

import asyncio
import importlib
import uuid

import asyncpg
from click.testing import CliRunner

from core.cli import cli
from core.db.database import activate
from core.testing import create_database, drop_database


def run(dsn, *args):
    result = CliRunner().invoke(cli, ["-d", "core", "db", *args], env={"DATABASE_URL": dsn})
    activate(None)  # the command's platform made its (now closed) database the active one
    return result


async def fetch(dsn, query):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


def test_migrate_and_status_from_an_empty_database(pg_admin_dsn):
    name = f"kopilka_m_{uuid.uuid4().hex[:10]}"
    dsn = asyncio.run(create_database(pg_admin_dsn, name))
    try:
        before = run(dsn, "status")
        assert before.exit_code == 1 and "pending" in before.output and "core_ledger" in before.output

        migrated = run(dsn, "migrate")
        assert migrated.exit_code == 0, migrated.output
        after = run(dsn, "status")
        assert after.exit_code == 0 and "up to date" in after.output, after.output  # exit 1 while any is pending

        tables = {r["tablename"] for r in asyncio.run(fetch(dsn, "SELECT tablename FROM pg_tables"
                                                                 " WHERE schemaname = 'public'"))}
        assert {"ledger_accounts", "users_users", "taskiq_messages", "projects_stages"} <= tables
        assert not {t for t in tables if t.startswith(("payments_", "crowd_", "example_", "notify_"))}, tables

        # Dependency order: every app's migrations ran after those of the apps it depends on.
        rows = asyncio.run(fetch(dsn, "SELECT app_name FROM migration ORDER BY id"))
        first_run = {}
        for position, row in enumerate(rows):
            first_run.setdefault(row["app_name"], position)
        for module in ("core.ledger.piccolo_app", "core.access.piccolo_app", "core.notifications.piccolo_app"):
            config = importlib.import_module(module).APP_CONFIG
            for dependency in config.migration_dependency_app_configs:
                assert first_run[dependency.app_name] < first_run[config.app_name], (dependency.app_name, module)

        assert run(dsn, "migrate").exit_code == 0  # nothing left to do
        assert len(asyncio.run(fetch(dsn, "SELECT id FROM migration"))) == len(rows)
    finally:
        asyncio.run(drop_database(pg_admin_dsn, name))
