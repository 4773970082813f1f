"""The double-entry ledger: accounts, transfers, holds, statements and a sealed hash chain."""

from core import hookimpl
from core.ledger.settings import LedgerSettings


@hookimpl
def settings_schema():
    return LedgerSettings


@hookimpl
def piccolo_apps():
    return ["core.ledger.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    from core.ledger.service import Ledger

    publish = None
    if platform.plugins.implementations("on_transfers_committed"):

        async def publish(transfers):
            await platform.plugins.emit("on_transfers_committed", platform=platform, transfers=transfers)

    register(Ledger(platform.db, settings, publish=publish))


@hookimpl
def register_tasks(tasks, settings):
    from core.ledger import tasks as ledger_tasks

    tasks.task(
        ledger_tasks.expire_pending, name="ledger.expire_pending", schedule=[{"cron": settings.expire_cron}]
    )
    tasks.task(ledger_tasks.seal, name="ledger.seal", schedule=[{"cron": settings.seal_cron}])


@hookimpl
def permissions(register):
    register("ledger.view", "See ledger accounts, balances, statements, transfers and trial balances")
    register("ledger.accounts", "Open ledger accounts, change their limits, close and reopen them")
    register("ledger.transfer", "Submit ledger transfers through the API (moves money)", sensitive=True)


@hookimpl
def routes():
    from core.ledger.routes import ledger_admin_api

    return [ledger_admin_api]


@hookimpl
def register_commands(cli):
    from core.ledger.commands import ledger

    cli.add_command(ledger)
