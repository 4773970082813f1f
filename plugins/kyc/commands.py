"""``kopilka kyc``: the providers' emulators, importing the invalid-passports list, running due checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from core.cli import PlatformContext, pass_context

EMULATORS = {"fns": "plugins.kyc.itn.emulator:FnsEmulator", "mvd": "plugins.kyc.passport.emulator:MvdEmulator"}


@click.group("kyc")
def kyc() -> None:
    """Identity verification: provider emulators, the invalid-passports list, due checks."""


@kyc.command("emulator")
@click.argument("provider", type=click.Choice(sorted(EMULATORS)))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9101, show_default=True, type=int, help="Port to listen on.")
def emulator_command(provider: str, host: str, port: int) -> None:
    """Serve the tax service's "Узнать ИНН" (fns) or the MVD's list download (mvd) on HOST:PORT.

    Point [plugins."kyc.itn"] base_url or [plugins."kyc.passport"] list_url at it;
    GET /_emulator shows its state and POST /_emulator/modes switches failure modes.
    """
    import importlib

    import uvicorn

    module, _sep, name = EMULATORS[provider].partition(":")
    emulator = getattr(importlib.import_module(module), name)()
    click.echo(f"{provider} emulator at http://{host}:{port} (state: /_emulator)", err=True)
    uvicorn.run(emulator.app(), host=host, port=port, log_level="info")


@kyc.command("import-passports")
@click.option("--url", default=None, help="Download from this address instead of the configured one.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Import a downloaded list_of_expired_passports.csv.bz2 instead.")
@pass_context
def import_passports(pctx: PlatformContext, url: str | None, path: Path | None) -> None:
    """Replace the list of invalid passports now (the first import of 100+ million rows takes a while)."""
    from plugins.kyc.passport.invalid_list import READ_CHUNK, InvalidPassports
    from plugins.kyc.passport.settings import list_url_of

    async def chunks(file: Path):
        with file.open("rb") as fh:
            while block := fh.read(READ_CHUNK):
                yield block

    async def work(platform: Any) -> Any:
        invalid = platform.service(InvalidPassports)
        if path is not None:
            return await invalid.load(chunks(path), source=str(path))
        return await invalid.download(url or list_url_of(platform, platform.settings("kyc.passport")))

    report = pctx.run(work)
    click.echo(f"{report.status}: {report.rows} passports, {report.skipped} rows skipped"
               + (f" ({report.error})" if report.error else ""))
    if report.status == "failed":
        raise SystemExit(1)


@kyc.command("run-due")
@pass_context
def run_due(pctx: PlatformContext) -> None:
    """Run the checks that are due now (pending answers, retries after provider errors)."""
    from plugins.kyc.service import KycService

    async def work(platform: Any) -> dict[str, int]:
        return await platform.service(KycService).run_due()

    click.echo(pctx.run(work))
