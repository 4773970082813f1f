"""``kopilka scoring``: serve a provider's emulator, poll pending inquiries by hand."""

from __future__ import annotations

import importlib

import click

from core.cli import PlatformContext, pass_context

PROVIDERS = ("ubki", "mbki", "scorista")


@click.group("scoring")
def scoring() -> None:
    """Credit inquiries: provider emulators and the polling task."""


@scoring.command("emulator")
@click.argument("provider", type=click.Choice(PROVIDERS))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9101, show_default=True, type=int, help="Port to listen on.")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["timeout", "down", "garbage"]),
              help="Failure mode to start with; repeat for several. Also switchable at /_emulator/modes.")
@pass_context
def emulator_command(pctx: PlatformContext, provider: str, host: str, port: int, modes: tuple[str, ...]) -> None:
    """Serve PROVIDER's emulator on a loopback port.

    It accepts the credentials of the deployment's settings for that provider (the sandbox
    ones when the plugin is not enabled), so a provider whose api_url points here talks to
    it as to the bureau.
    """
    import uvicorn

    settings_module = importlib.import_module(f"plugins.scoring.{provider}.settings")
    plugin = f"scoring.{provider}"
    platform = pctx.platform
    if plugin in platform.plugins:
        settings = platform.settings(plugin)
    else:
        model = next(v for k, v in vars(settings_module).items() if k.endswith("Settings") and k != "BaseModel")
        settings = model()
    emulator = importlib.import_module(f"plugins.scoring.{provider}.emulator").build_emulator(settings, modes=modes)
    click.echo(f"{emulator.title} emulator at http://{host}:{port} (state: /_emulator)", err=True)
    uvicorn.run(emulator.app(), host=host, port=port, log_level="info")


@scoring.command("poll")
@pass_context
def poll_command(pctx: PlatformContext) -> None:
    """Run the polling task once: ask about every inquiry that is due, print how many."""
    from plugins.scoring.service import ScoringService

    async def work(platform):
        return await platform.service(ScoringService).poll_due()

    click.echo(pctx.run(work))
