"""``kopilka payments``: run a provider emulator, the janitor or a reconciliation by hand."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import click

from core.cli import PlatformContext, pass_context


@click.group("payments")
def payments() -> None:
    """Payments: provider emulators, the janitor and reconciliation."""


def _provider_plugins(platform: Any) -> dict[str, str]:
    """Provider name -> plugin name, for every gateway plugin this installation knows."""
    from core.plugins import available_plugins

    return {name.split(".", 1)[1]: name for name in available_plugins() if name.startswith("payments.")}


@payments.command("emulator")
@click.argument("provider")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9001, show_default=True, type=int, help="Port to listen on.")
@click.option("--public-url", default=None, help="The emulator's URL as browsers see it (default http://HOST:PORT).")
@click.option("--callback-url", default=None,
              help="Where callbacks go when a request names none (Uniteller's back-office notify URL).")
@click.option("--mode", "modes", multiple=True,
              help="Failure mode to start with (declined, timeout, duplicate_callback, delayed_callback, "
                   "no_callback, wrong_signature); repeat for several. Also switchable at /_emulator.")
@pass_context
def emulator_command(pctx: PlatformContext, provider: str, host: str, port: int, public_url: str | None,
                     callback_url: str | None, modes: tuple[str, ...]) -> None:
    """Serve PROVIDER's emulator (fondy, wayforpay, uniteller, bank_transfer) as a sandbox.

    It uses the merchant credentials of the deployment's settings for that gateway, so a
    gateway whose api_url points here talks to it as to the real provider.
    """
    import uvicorn

    platform = pctx.platform
    plugins = _provider_plugins(platform)
    if provider not in plugins:
        raise click.BadParameter(f"unknown provider {provider!r}; known: {', '.join(sorted(plugins))}",
                                 param_hint="PROVIDER")
    plugin_name = plugins[provider]
    if plugin_name not in platform.plugins:
        raise click.UsageError(f"plugin {plugin_name!r} is not enabled in {platform.deployment.source}; "
                               "its settings hold the merchant credentials the emulator needs")
    module = importlib.import_module(f"plugins.payments.{provider}.emulator")
    url = public_url or f"http://{host}:{port}"
    emulator = module.build_emulator(platform.settings(plugin_name), public_url=url,
                                     default_callback_url=callback_url or "", modes=modes)
    click.echo(f"{emulator.title} emulator at {url} (control page: {url}/_emulator)", err=True)
    uvicorn.run(emulator.app(), host=host, port=port, log_level="info")


@payments.command("janitor")
@pass_context
def janitor_command(pctx: PlatformContext) -> None:
    """Ask providers about every payment whose outcome is due for a check, now."""
    from plugins.payments.service import Payments

    async def work(platform: Any) -> dict[str, int]:
        return await platform.service(Payments).run_janitor()

    click.echo(pctx.run(work))


@payments.command("reconcile")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Business date to reconcile (default: yesterday).")
@pass_context
def reconcile_command(pctx: PlatformContext, day: dt.datetime | None) -> None:
    """Compare each provider's view of a day with our records and the ledger."""
    from plugins.payments.reconciliation import Reconciler

    business_date = day.date() if day else dt.date.today() - dt.timedelta(days=1)

    async def work(platform: Any) -> list[int]:
        return await Reconciler(platform).run(business_date)

    click.echo(f"reports: {pctx.run(work)}")



