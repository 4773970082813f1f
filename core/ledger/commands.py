"""``kopilka ledger``: verify, seal, expire, and look at balances and trial balances."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from core.cli import PlatformContext, console, pass_context


def _ledger(platform):
    from core.ledger.service import Ledger

    return platform.service(Ledger)


@click.group("ledger")
def ledger() -> None:
    """The double-entry ledger: integrity checks, sealing and reports."""


@ledger.command("verify")
@click.option(
    "--max-faults", default=1, show_default=True, type=click.IntRange(1), help="Stop after this many faults."
)
@pass_context
def verify_command(pctx: PlatformContext, max_faults: int) -> None:
    """Check the hash chain, debits = credits per ledger, and every stored balance against its transfers.

    Exits 1 and names the first fault found; exits 0 when everything holds.
    """

    async def work(platform):
        return await _ledger(platform).verify(max_faults=max_faults, progress=lambda step: console.log(step))

    report = pctx.run(work)
    summary = (
        f"{report.transfers} transfers, {report.accounts} accounts, {report.blocks} sealed blocks "
        f"({report.sealed} transfers sealed, {report.unsealed} not yet)"
    )
    if report.ok:
        click.echo(f"ledger verified: {summary}")
        return
    for fault in report.faults:
        click.echo(f"FAULT: {fault}", err=True)
    click.echo(f"ledger verification failed after checking {summary}", err=True)
    sys.exit(1)


@ledger.command("seal")
@pass_context
def seal_command(pctx: PlatformContext) -> None:
    """Seal committed transfers into the hash chain now (the ledger.seal task does it every minute)."""

    async def work(platform):
        return await _ledger(platform).seal()

    blocks = pctx.run(work)
    click.echo(f"sealed {len(blocks)} block(s), {sum(b.transfers for b in blocks)} transfer(s)")


@ledger.command("expire")
@pass_context
def expire_command(pctx: PlatformContext) -> None:
    """Expire pending transfers past their timeout now (the ledger.expire_pending task does it every minute)."""

    async def work(platform):
        return await _ledger(platform).expire_pending()

    click.echo(f"expired {pctx.run(work)} pending transfer(s)")


@ledger.command("balances")
@click.argument("owner")
@pass_context
def balances_command(pctx: PlatformContext, owner: str) -> None:
    """Show the balances of every account of OWNER (e.g. platform, user:<uuid>), in minor units."""

    async def work(platform):
        return await _ledger(platform).owner_balances(owner)

    table = Table(title=f"Balances of {owner}")
    for column in ("account", "currency", "purpose", "posted", "pending", "available"):
        table.add_column(column, justify="right" if column in ("posted", "pending", "available") else "left")
    for b in pctx.run(work):
        table.add_row(
            str(b.account_id), b.currency, b.purpose, str(b.posted), str(b.pending), str(b.available)
        )
    Console().print(table)


@ledger.command("trial-balance")
@click.option("--currency", required=True, help="Currency or asset code, e.g. RUB.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write every account as CSV to this file ('-' for standard output).",
)
@pass_context
def trial_balance_command(pctx: PlatformContext, currency: str, csv_path: str | None) -> None:
    """Totals per account purpose for one ledger; --csv exports every account."""

    async def work(platform):
        ledger_service = _ledger(platform)
        trial = await ledger_service.trial_balance(currency)
        if trial is None or not csv_path:
            return trial
        with click.open_file(csv_path, "w") as out:
            async for chunk in ledger_service.trial_balance_csv(currency):
                out.write(chunk)
        return trial

    trial = pctx.run(work)
    if trial is None:
        click.echo(f"error: no ledger for {currency!r}", err=True)
        sys.exit(2)
    if csv_path:
        return
    table = Table(title=f"Trial balance {trial.currency} (minor units, scale {trial.scale})")
    for column in (
        "purpose",
        "accounts",
        "debits posted",
        "credits posted",
        "balance",
        "debits pending",
        "credits pending",
    ):
        table.add_column(column, justify="left" if column == "purpose" else "right")
    for r in trial.rows:
        table.add_row(
            r.purpose,
            str(r.accounts),
            str(r.debits_posted),
            str(r.credits_posted),
            str(r.balance),
            str(r.debits_pending),
            str(r.credits_pending),
        )
    table.add_row(
        "TOTAL",
        "",
        str(trial.debits_posted),
        str(trial.credits_posted),
        str(trial.credits_posted - trial.debits_posted),
        str(trial.debits_pending),
        str(trial.credits_pending),
    )
    Console().print(table)
    if not trial.balanced:
        click.echo("error: debits and credits differ", err=True)
        sys.exit(1)
