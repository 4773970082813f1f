"""``kopilka pii``, ``kopilka audit`` and ``kopilka roles``."""

from __future__ import annotations

import datetime as dt
import getpass
import sys

import click

from core.cli import PlatformContext, pass_context, progress_bar


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


@click.group("pii")
def pii() -> None:
    """Encryption keys of personal data: make, inspect, rotate."""


@pii.command("keygen")
def keygen() -> None:
    """Print a new random key (base64) for pii_keys or blind_index_key."""
    from core.access.pii import generate_key

    click.echo(generate_key())


@pii.command("status")
@pass_context
def status(pctx: PlatformContext) -> None:
    """Show, for each encrypted field, how many values each key protects."""
    from core.access.pii import PiiCipher
    from core.access.pii_rotation import key_usage

    async def work(platform):
        return platform.service(PiiCipher).active, await key_usage(platform)

    active, reports = pctx.run(work)
    click.echo(f"active key: {active}")
    for report in reports:
        usage = ", ".join(f"{kid}: {n}" for kid, n in report.by_key.items()) or "empty"
        click.echo(f"{report.field}: {usage}")


@pii.command("rotate")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
@pass_context
def rotate(pctx: PlatformContext, batch: int) -> None:
    """Re-encrypt every value not under the active key (safe to interrupt and run again)."""
    from core.access.audit import AuditLog
    from core.access.context import acting_as
    from core.access.pii import PiiCipher
    from core.access.pii_rotation import rotate as rotate_all

    async def work(platform):
        with acting_as(cli_actor()):
            with progress_bar() as bar:  # long on big tables: show which field it is on
                step = bar.add_task("re-encrypting", total=None)
                reports = await rotate_all(platform, batch=batch,
                                           progress=lambda s: bar.update(step, description=f"re-encrypting {s}"))
            await platform.service(AuditLog).record(
                action="access.pii.rotated",
                details={
                    "active_key": platform.service(PiiCipher).active,
                    "fields": {r.field: r.rotated for r in reports},
                },
            )
        return reports

    reports = pctx.run(work)
    for report in reports:
        click.echo(f"{report.field}: {report.rotated} re-encrypted, {report.unreadable} unreadable")
    if any(r.unreadable for r in reports):
        sys.exit(1)


@pii.command("reindex")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
@pass_context
def reindex(pctx: PlatformContext, batch: int) -> None:
    """Recompute every blind index (after blind_index_key changed)."""
    from core.access.audit import AuditLog
    from core.access.context import acting_as
    from core.access.pii_rotation import reindex as reindex_all

    async def work(platform):
        with acting_as(cli_actor()):
            with progress_bar() as bar:
                step = bar.add_task("re-indexing", total=None)
                reports = await reindex_all(platform, batch=batch,
                                            progress=lambda s: bar.update(step, description=f"re-indexing {s}"))
            await platform.service(AuditLog).record(
                action="access.pii.reindexed", details={r.field: r.reindexed for r in reports}
            )
        return reports

    for report in pctx.run(work):
        click.echo(f"{report.field}: {report.reindexed} re-indexed, {report.unreadable} unreadable")


@click.group("audit")
def audit() -> None:
    """The audit log."""


@audit.command("export")
@click.option("--action", help="An action, or a prefix ending with '*' (auth.login*).")
@click.option("--target", help="Exact target, e.g. user:<id>.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this date (UTC).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), help="Before this date (UTC).")
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default: stdout).")
@pass_context
def export(pctx: PlatformContext, action, target, since, until, output) -> None:
    """Write the audit log as CSV, oldest first."""
    from core.access.audit import AuditFilter, AuditLog
    from core.access.context import acting_as

    def utc(value: dt.datetime | None) -> dt.datetime | None:
        return value.replace(tzinfo=dt.UTC) if value else None

    filters = AuditFilter(action=action, target=target, since=utc(since), until=utc(until))

    async def work(platform):
        log = platform.service(AuditLog)
        with acting_as(cli_actor()):
            await log.record(action="audit.exported", details={"action": action, "target": target})
        async for chunk in log.export_csv(filters):
            output.write(chunk)

    pctx.run(work)


@click.group("roles")
def roles() -> None:
    """Roles and who holds them (for setting up; the admin site is the everyday tool)."""


@roles.command("list")
@pass_context
def list_roles(pctx: PlatformContext) -> None:
    """Print every role with its permissions."""
    from core.access.roles import Roles

    async def work(platform):
        return await platform.service(Roles).list()

    for role in pctx.run(work):
        click.echo(f"{role.code}: {', '.join(sorted(role.permissions)) or '-'}")


@roles.command("grant")
@click.argument("login")
@click.argument("role")
@pass_context
def grant(pctx: PlatformContext, login: str, role: str) -> None:
    """Give the user signed in as LOGIN the role ROLE (from the console: no approval needed)."""
    from core.access.context import acting_as
    from core.access.roles import Roles
    from core.users.service import Users

    async def work(platform):
        user = await platform.service(Users).find(login)
        if user is None:
            raise click.ClickException(f"no user signs in as {login!r}")
        with acting_as(cli_actor()):
            return await platform.service(Roles).grant(user.id, role, by=None)

    click.echo("granted" if pctx.run(work) else "already held")
