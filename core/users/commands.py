"""``kopilka users``: create accounts and administrators from the console."""

from __future__ import annotations

import click

from core.cli import PlatformContext, pass_context


@click.group("users")
def users() -> None:
    """User accounts."""


@users.command("create")
@click.argument("login")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--role", "roles", multiple=True, help="A role to grant (repeat for more); customer is always given."
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The password (asked for when not given).",
)
@pass_context
def create(pctx: PlatformContext, login: str, name: str, roles: tuple[str, ...], password: str) -> None:
    """Create an active account signing in as LOGIN (an e-mail address or a phone number).

    The first superadmin is made this way: kopilka users create admin@example.com --role superadmin
    """
    from litestar.exceptions import HTTPException

    from core.access.commands import cli_actor
    from core.access.context import acting_as
    from core.users.service import Users

    async def work(platform):
        with acting_as(cli_actor()):
            return await platform.service(Users).create(
                login, password, display_name=name, roles=("customer", *roles)
            )

    try:
        user = pctx.run(work)
    except HTTPException as exc:
        raise click.ClickException(str(exc.detail)) from None
    click.echo(f"created {user.id} ({user.login})")
