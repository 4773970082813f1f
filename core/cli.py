"""The ``kopilka`` command line.

Every command reads the deployment named by ``--deployment`` (or ``KOPILKA_DEPLOYMENT``,
default ``demo``), starts the embedded PostgreSQL when no ``DATABASE_URL`` is set, and
fails with one line when the deployment is broken. Plugins add commands through the
``register_commands`` hook.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from core.deployment import redact
from core.errors import ConfigError
from core.heap import settle_after_startup

console = Console(stderr=True)
T = TypeVar("T")


class PlatformContext:
    """What commands share: the deployment name and a lazily built platform."""

    def __init__(self, deployment: str | None) -> None:
        self.deployment = deployment
        self._platform: Any = None

    @property
    def platform(self):
        if self._platform is None:
            from core.platform import Platform

            try:
                self._platform = Platform.from_deployment(self.deployment)
            except ConfigError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)
        return self._platform

    def run(self, work: Callable[[Any], Awaitable[T]], *, start: bool = True, migrate: bool = False) -> T:
        """Start the platform (or only its database), run ``work(platform)``, stop."""
        platform = self.platform

        async def main() -> T:
            try:
                if start:
                    await platform.start(migrate=migrate)
                else:
                    await platform.start_database()
                return await work(platform)
            finally:
                await platform.stop()

        return asyncio.run(main())


pass_context = click.make_pass_decorator(PlatformContext)


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=False)


class KopilkaGroup(click.Group):
    """Loads the commands of the deployment's plugins the first time they are listed or called."""

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if getattr(self, "_plugins_loaded", False):
            return
        self._plugins_loaded = True
        deployment = ctx.params.get("deployment") or os.environ.get("KOPILKA_DEPLOYMENT")
        try:
            from core.platform import Platform

            platform = Platform.from_deployment(deployment)
        except ConfigError as exc:
            # Reported when a command actually needs the platform; --help keeps working.
            self._load_error = str(exc)
            return
        except FileNotFoundError:
            return
        platform.plugins.collect("register_commands", cli=self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands(ctx)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None:
            self._load_plugin_commands(ctx)
            found = super().get_command(ctx, name)
        return found


@click.group(cls=KopilkaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--deployment",
    "-d",
    envvar="KOPILKA_DEPLOYMENT",
    default=None,
    help="Deployment file, or a name looked up as deployments/<name>.toml (default: demo).",
)
@click.version_option(package_name="kopilka")
@click.pass_context
def cli(ctx: click.Context, deployment: str | None) -> None:
    """kopilka: a plugin-based financial platform."""
    ctx.obj = PlatformContext(deployment)


# -- plugins and settings ---------------------------------------------------------


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--enabled", "enabled_only", is_flag=True, help="Only the plugins the deployment enables.")
@pass_context
def plugins_command(pctx: PlatformContext, as_json: bool, enabled_only: bool) -> None:
    """List every installed plugin: name, version, enabled or not, hooks, and the routes, tables and tasks it adds."""
    from core.plugins import available_plugins
    from core.web.app import create_app

    platform = pctx.platform
    platform.piccolo_app_modules()
    create_app(platform)  # fills in each plugin's routes
    rows = []
    for loaded in platform.plugins:
        rows.append(
            {
                "name": loaded.name,
                "version": loaded.version,
                "enabled": True,
                "essential": loaded.essential,
                "description": loaded.description,
                "hooks": platform.plugins.hooks_of(loaded.name),
                "routes": sorted(set(loaded.routes)),
                "tables": loaded.tables,
                "tasks": loaded.tasks,
            }
        )
    if not enabled_only:
        installed = available_plugins()
        for name in sorted(set(installed) - set(platform.plugins.plugins)):
            rows.append(_disabled_plugin_row(name, installed[name]))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"Plugins of {platform.deployment.source}")
    for column in ("name", "version", "enabled", "hooks", "routes", "tables", "tasks"):
        table.add_column(column, overflow="fold")  # wrap, never cut a name short with "…"
    for row in rows:
        table.add_row(
            row["name"], row["version"], "yes" if row["enabled"] else "no",
            "\n".join(row["hooks"]), "\n".join(row["routes"]), "\n".join(row["tables"]), "\n".join(row["tasks"]),
        )
    out = Console()
    if not out.is_terminal:  # piped or redirected: rich would squeeze the table into 80 columns
        out = Console(width=240)
    out.print(table)


def _disabled_plugin_row(name: str, module_path: str) -> dict[str, Any]:
    """What ``kopilka plugins`` knows of an installed plugin the deployment does not enable.

    Its hooks come from its module; it contributes no routes, tables or tasks, since it is off.
    """
    import importlib
    import inspect

    from core.plugins import plugin_version

    row: dict[str, Any] = {"name": name, "version": "", "enabled": False, "essential": False, "description": "",
                           "hooks": [], "routes": [], "tables": [], "tasks": []}
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:  # a broken plugin must not hide the others
        row["description"] = f"cannot import {module_path}: {exc}"
        return row
    row["version"] = plugin_version(module)
    row["description"] = (inspect.getdoc(module) or "").split("\n")[0]
    row["hooks"] = sorted(
        (getattr(obj, "kopilka_impl", None) or {}).get("specname") or attr
        for attr, obj in vars(module).items() if getattr(obj, "kopilka_impl", None) is not None
    )
    return row


@cli.command("settings")
@pass_context
def settings_command(pctx: PlatformContext) -> None:
    """Show the deployment's settings as validated, with secrets redacted."""
    platform = pctx.platform
    secret = platform.deployment.secret_paths
    out: dict[str, Any] = {"core": redact(platform.core, "", secret), "plugins": {}}
    for loaded in platform.plugins:
        if loaded.settings is not None:
            out["plugins"][loaded.name] = redact(loaded.settings, f"plugins.{loaded.name}", secret)
    click.echo(json.dumps(out, indent=2, default=str, ensure_ascii=False))


# -- database -----------------------------------------------------------------------


@cli.group("db")
def db_group() -> None:
    """Database: migrations and connection details."""


@db_group.command("migrate")
@pass_context
def db_migrate(pctx: PlatformContext) -> None:
    """Apply the pending migrations of every enabled plugin, in dependency order."""

    async def work(platform) -> int:
        with progress_bar() as progress:
            task = progress.add_task("migrating", total=None)
            count = await platform.migrate(lambda step: progress.update(task, description=f"migrating {step}"))
            progress.update(task, description=f"{count} migration(s) applied")
        return count

    pctx.run(work, start=False)


@db_group.command("status")
@pass_context
def db_status(pctx: PlatformContext) -> None:
    """Show, for each enabled piccolo app, the migrations applied and pending."""

    async def work(platform):
        return await platform.migration_status()

    statuses = pctx.run(work, start=False)
    table = Table(title="Migrations")
    for column in ("app", "applied", "pending", "state"):
        table.add_column(column)
    for st in statuses:
        table.add_row(st.app_name, str(len(st.applied)), ", ".join(st.pending) or "-",
                      "up to date" if st.up_to_date else "pending")
    Console().print(table)
    if any(not st.up_to_date for st in statuses):
        sys.exit(1)


@db_group.command("url")
@pass_context
def db_url(pctx: PlatformContext) -> None:
    """Print the connection URL (starting the embedded server if it is the one in use)."""
    platform = pctx.platform
    url = platform.database_dsn()
    if platform._embedded is not None:
        from core.db.embedded import DATABASE_NAME

        url = platform._embedded.get_uri(DATABASE_NAME)
        platform._embedded._cleanup = lambda: None  # keep it running for the caller
    click.echo(url)


# -- demo ---------------------------------------------------------------------------------


@cli.group("demo")
def demo_group() -> None:
    """The demo deployment's sample data."""


@demo_group.command("load")
@pass_context
def demo_load(pctx: PlatformContext) -> None:
    """Create the demo records of every enabled plugin (safe to run again)."""
    from core.demo import load_demo

    async def work(platform) -> None:
        with progress_bar() as progress:
            task = progress.add_task("demo data", total=None)
            await load_demo(platform, lambda step: progress.update(task, description=step))
            progress.update(task, description="demo data loaded")

    pctx.run(work, migrate=True)


# -- running ----------------------------------------------------------------------------------


def _install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


def _refuse_unsafe_production(platform) -> None:
    """A deployment that is not a sandbox must not run on development stand-ins.

    Its own ``web.secret_key`` (session CSRF tokens, code hashes and, without pii_keys,
    personal data derive from it), secure cookies when served over https, and no plugin
    that says it is for sandboxes only (an outbox that shows one-time codes to admins).
    """
    from core.deployment import DEVELOPMENT_SECRET

    core = platform.core
    if core.platform.sandbox:
        return
    if core.web.secret_key.get_secret_value() == DEVELOPMENT_SECRET:
        raise click.ClickException(
            "web.secret_key is the public development default: give this deployment its own, e.g. "
            "secret_key = { file = \"/run/secrets/kopilka-web-key\" } (or set [platform] sandbox = true)"
        )
    if core.web.base_url.startswith("https://") and not core.web.secure_cookies:
        raise click.ClickException(
            "web.cookie_secure = false on a site served over https: session cookies would also travel over "
            "plain http; remove the setting (or set [platform] sandbox = true)"
        )
    for name, reason in platform.plugins.each("sandbox_only"):
        raise click.ClickException(
            f"{platform.plugins.source}: plugin '{name}': key 'plugins': sandbox only: {reason} "
            "(disable it, or set [platform] sandbox = true)"
        )


async def _serve(platform, host: str, port: int, web: bool, worker: bool, scheduler: bool, migrate: bool,
                 demo: bool) -> None:
    from core.jobs.runtime import Jobs

    _refuse_unsafe_production(platform)
    stop = asyncio.Event()
    await platform.start(migrate=migrate)
    try:
        if demo:
            from core.demo import load_demo

            await load_demo(platform, lambda step: console.log(step))
        jobs = platform.service(Jobs)
        await jobs.start()
        # Everything built so far lives as long as the process: out of the collector's sight,
        # and thresholds for a busy ledger (see core/heap.py).
        settle_after_startup()
        roles: list[asyncio.Task[Any]] = []
        if worker:
            roles.append(asyncio.create_task(jobs.run_worker(stop), name="worker"))
        if scheduler:
            roles.append(asyncio.create_task(jobs.run_scheduler(stop), name="scheduler"))
        if web:
            import uvicorn

            from core.web.app import create_app

            # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1; the platform
            # trusts it only from web.trusted_proxies (core.access.context.client_ip).
            config = uvicorn.Config(create_app(platform), host=host, port=port, log_config=None,
                                    access_log=False, lifespan="on", timeout_graceful_shutdown=5,
                                    proxy_headers=False)
            server = uvicorn.Server(config)
            console.log(f"serving {platform.core.platform.name} at http://{host}:{port}")
            await server.serve()  # returns on SIGINT/SIGTERM
            stop.set()
        else:
            _install_stop_signals(stop)
            await stop.wait()
        for role in roles:
            with suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(role, timeout=10)
        await jobs.stop()
    finally:
        await platform.stop()


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--web/--no-web", default=True, show_default=True, help="Serve HTTP.")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run background tasks.")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Send scheduled tasks (only one process of a deployment does at a time).")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Apply pending migrations first.")
@click.option("--demo", is_flag=True, help="Load the demo data first.")
@pass_context
def serve(pctx: PlatformContext, host: str, port: int, web: bool, worker: bool, scheduler: bool, migrate: bool,
          demo: bool) -> None:
    """Run the web site, a worker and the scheduler in one process (flags split the roles)."""
    from core.web.logging import configure_logging

    configure_logging()
    platform = pctx.platform
    asyncio.run(_serve(platform, host, port, web, worker, scheduler, migrate, demo))


@cli.command("worker")
@pass_context
def worker(pctx: PlatformContext) -> None:
    """Run background tasks only."""
    from core.web.logging import configure_logging

    configure_logging()
    asyncio.run(_serve(pctx.platform, "", 0, web=False, worker=True, scheduler=False, migrate=False, demo=False))


@cli.command("scheduler")
@pass_context
def scheduler(pctx: PlatformContext) -> None:
    """Send scheduled tasks only (a second scheduler waits as a stand-by)."""
    from core.web.logging import configure_logging

    configure_logging()
    asyncio.run(_serve(pctx.platform, "", 0, web=False, worker=False, scheduler=True, migrate=False, demo=False))


def main() -> None:
    cli(prog_name="kopilka")


if __name__ == "__main__":
    # Run the importable module, not this __main__ copy: plugins' commands import
    # core.cli (pass_context, PlatformContext) and must meet the same classes.
    from core.cli import main as importable_main

    importable_main()
