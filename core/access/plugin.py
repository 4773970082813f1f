"""Permissions, roles, maker-checker approvals, the audit log, PII encryption, codes and rate limits."""

from pathlib import Path

from core import hookimpl
from core.access import commands
from core.access.actions import role_actions
from core.access.approvals import Approvals
from core.access.audit import AuditLog
from core.access.confirmations import Confirmations
from core.access.permissions import PermissionRegistry
from core.access.pii import PiiCipher
from core.access.ratelimit import RateLimiter
from core.access.roles import Roles
from core.access.settings import AccessSettings
from core.web.menu import MenuItem

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return AccessSettings


@hookimpl
def piccolo_apps():
    return ["core.access.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    permissions = PermissionRegistry.from_platform(platform)
    register(permissions)
    register(AuditLog(platform))
    register(RateLimiter(platform.db))
    register(PiiCipher.from_settings(settings, platform))
    register(Roles(platform, permissions))
    register(Approvals(platform, settings, permissions))
    register(Confirmations(platform, settings))


@hookimpl
async def on_startup(platform):
    await platform.service(Roles).sync_builtin()


@hookimpl
def permissions(register):
    register("admin.access", "Open the admin area")
    register("access.roles.view", "See roles, their permissions and who holds them")
    register("access.roles.assign", "Grant and revoke roles", sensitive=True)
    register("access.roles.manage", "Create roles and change their permissions", sensitive=True)
    register("access.approvals.view", "See the actions waiting for a second person's approval")
    register("audit.view", "Read the audit log")
    register("audit.export", "Export the audit log")


@hookimpl
def register_approval_actions(register):
    for action in role_actions():
        register(action)


@hookimpl
def routes():
    from core.access import routes as access_routes

    return access_routes.ROUTES


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def admin_menu():
    return [
        MenuItem("Approvals", "/admin/access/approvals", "access.approvals.view", order=20),
        MenuItem("Roles", "/admin/access/roles", "access.roles.view", order=80),
        MenuItem("Audit log", "/admin/audit", "audit.view", order=90),
    ]


@hookimpl
def register_tasks(tasks):
    from core.access import tasks as access_tasks

    tasks.task(access_tasks.housekeeping, name="access.housekeeping", schedule=[{"cron": "17 * * * *"}])


@hookimpl
def register_commands(cli):
    cli.add_command(commands.pii)
    cli.add_command(commands.audit)
    cli.add_command(commands.roles)
