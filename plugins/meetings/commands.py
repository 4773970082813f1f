"""``kopilka meetings``: check a meeting's event chain, run the due work now."""

from __future__ import annotations

import uuid

import click

from core.cli import PlatformContext, pass_context


@click.group("meetings")
def meetings_group() -> None:
    """Creditors' meetings: audit and housekeeping."""


@meetings_group.command("verify")
@click.argument("meeting_id", type=click.UUID)
@pass_context
def verify(pctx: PlatformContext, meeting_id: uuid.UUID) -> None:
    """Recompute the hash chain of MEETING_ID and say whether it is whole."""
    from plugins.meetings import chain

    async def work(platform):
        return await chain.verify(platform.db, meeting_id)

    problems = pctx.run(work)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("the event chain is whole")


@meetings_group.command("run-due")
@pass_context
def run_due(pctx: PlatformContext) -> None:
    """Open and close the meetings whose time came, make missing protocols (what the task does)."""
    from plugins.meetings.tasks import run_due as task

    click.echo(pctx.run(task))
