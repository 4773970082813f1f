"""The console commands (on a database of their own) and the housekeeping tasks."""

import asyncio
import base64
import csv
import io

from click.testing import CliRunner

from core.access.approvals import Approvals
from core.access.confirmations import Confirmations
from core.access.pii import generate_key
from core.cli import cli
from core.users.testing import make_user


def invoke(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_keygen_prints_a_usable_key():
    result = invoke("pii", "keygen")
    assert result.exit_code == 0 and len(base64.b64decode(result.output.strip())) == 32


async def test_console_commands_end_to_end(committed_db, tmp_path):
    old_key, new_key = generate_key(), generate_key()
    deployment = tmp_path / "console.toml"

    def write(keys, active):
        pii_keys = ", ".join(f'{k} = "{v}"' for k, v in keys.items())
        deployment.write_text(
            f'[platform]\nplugins = []\n[database]\nurl = "{committed_db.dsn}"\n[jobs]\nbroker = "memory"\n'
            '[web]\ndefault_locale = "en"\n'
            f'[plugins."core.users"]\nargon2_time_cost = 1\nargon2_memory_kib = 8192\nargon2_parallelism = 1\n'
            f'[plugins."core.access"]\npii_keys = {{ {pii_keys} }}\npii_active_key = "{active}"\n'
        )

    def run(*args, input=None):
        return asyncio.to_thread(invoke, "-d", str(deployment), *args, input=input)

    write({"k1": old_key}, "k1")
    created = await run(
        "users",
        "create",
        "+7 999 555 44 33",
        "--name",
        "Root",
        "--role",
        "superadmin",
        "--password",
        "correct horse battery staple",
    )
    assert created.exit_code == 0 and created.output.startswith("created"), created.output
    weak = await run("users", "create", "weak@example.com", "--password", "short")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    listed = await run("roles", "list")
    assert "superadmin:" in listed.output and "users.delete" in listed.output
    granted = await run("roles", "grant", "89995554433", "finance")
    assert granted.output.strip() == "granted"
    assert "users_users.phone_enc: k1: 1" in (await run("pii", "status")).output.splitlines()

    write({"k1": old_key, "k2": new_key}, "k2")
    rotated = await run("pii", "rotate")
    assert rotated.exit_code == 0 and "users_users.phone_enc: 1 re-encrypted" in rotated.output
    assert "users_users.phone_enc: k2: 1" in (await run("pii", "status")).output

    exported = await run("audit", "export", "--action", "access.*")
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[0][:5] == ["id", "at", "actor_id", "actor", "action"]
    actions = {r[4] for r in rows[1:]}
    assert {"access.role.granted", "access.pii.rotated"} <= actions
    assert all(r[3].startswith(("cli", "system")) for r in rows[1:] if r[4] == "access.role.granted")


async def test_housekeeping_tasks(platform, jobs):
    user = await make_user(platform)
    confirmations = platform.service(Confirmations)
    await confirmations.issue(user_id=user.id, purpose="test.thing", payload={})
    await platform.db.execute("UPDATE access_confirmations SET expires_at = now() - interval '2 days'")
    from core.access import Identity

    maker = Identity(user_id=user.id, permissions=frozenset({"users.delete"}))
    await platform.service(Approvals).perform(maker, "users.delete", {"user_id": str(user.id)})
    await platform.db.execute("UPDATE access_approvals SET expires_at = now() - interval '1 minute'")
    done = await jobs.run_now("access.housekeeping")
    assert done["approvals_expired"] == 1 and done["codes_purged"] == 1
    await platform.db.execute(
        "INSERT INTO users_users (status, email, created_at) VALUES ('pending', 'stale@example.com', "
        "now() - interval '8 days')"
    )
    assert (await jobs.run_now("users.housekeeping"))["registrations_purged"] == 1
    assert "notifications.deliver_due" in platform.tasks


async def test_demo_users_load_once(platform):
    from core.users.demo import load
    from core.users.service import Users

    steps = []
    await load(platform, steps.append)
    await load(platform, steps.append)
    assert len(steps) == 4, "a second run creates nothing"
    admin = await platform.service(Users).find("admin@example.com")
    from core.access.roles import Roles

    assert "superadmin" in await platform.service(Roles).roles_of(admin.id)
