"""``kopilka business-date``: show, set and close the business date."""

from __future__ import annotations

import datetime as dt

import click

from core.cli import PlatformContext, pass_context


@click.group("business-date")
def business_date() -> None:
    """The business date that close-of-day jobs run for."""


@business_date.command("show")
@pass_context
def show(pctx: PlatformContext) -> None:
    """Print the current business date."""
    from core.jobs.runtime import Jobs

    async def work(platform):
        return await platform.service(Jobs).calendar.today()

    click.echo(pctx.run(work).isoformat())


@business_date.command("set")
@click.argument("date", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD")
@pass_context
def set_date(pctx: PlatformContext, date: dt.datetime) -> None:
    """Set the business date (YYYY-MM-DD)."""
    from core.jobs.runtime import Jobs

    async def work(platform):
        await platform.service(Jobs).calendar.set(date.date())

    pctx.run(work)
    click.echo(date.date().isoformat())


@business_date.command("close")
@pass_context
def close(pctx: PlatformContext) -> None:
    """Run close of day for the current business date now, then advance it."""
    from core.jobs.runtime import Jobs

    async def work(platform):
        return await platform.service(Jobs).close_day()

    closed = pctx.run(work)
    click.echo(f"closed {closed.isoformat()}")
