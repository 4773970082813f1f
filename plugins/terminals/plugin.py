"""Cash terminals: kiosks with bill validators that credit customers' wallets, and their encashment."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.terminals import admin_routes, approvals, commands, kiosk
from plugins.terminals import routes as customer_routes
from plugins.terminals.service import Terminals
from plugins.terminals.settings import TerminalsSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return TerminalsSettings


@hookimpl
def piccolo_apps():
    return ["plugins.terminals.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(Terminals(platform, settings))


@hookimpl
def routes():
    return [*customer_routes.ROUTES, *kiosk.ROUTES, *admin_routes.ADMIN_ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def static_dirs():
    return {"terminals": HERE / "static"}


@hookimpl
def register_tasks(tasks, settings):
    from plugins.terminals import tasks as terminal_tasks

    tasks.worker_loop(terminal_tasks.run_terminals, name="terminals.runner")
    tasks.task(terminal_tasks.watchdog, name="terminals.watchdog", schedule=[{"cron": settings.watchdog_cron}])


@hookimpl
def permissions(register):
    register("terminals.view", "See cash terminals, their faults and events, and collection reports")
    register("terminals.manage", "Register and change cash terminals, issue kiosk keys, work sandbox devices")
    register("terminals.collect", "Record the collection of a terminal's cash box")
    register("terminals.assign", "Give a note nobody was identified for to a customer", sensitive=True)


@hookimpl
def register_approval_actions(register):
    for action in approvals.ACTIONS:
        register(action)


@hookimpl
def site_menu():
    return [MenuItem("Deposit cash", "/terminals", permission="login",
                     description="Put banknotes into one of our cash terminals: they go straight to your balance.",
                     order=25)]


@hookimpl
def admin_menu():
    return [
        MenuItem("Cash terminals", "/admin/terminals", permission="terminals.view", order=30,
                 description="Terminals, their faults, unclaimed notes and collections."),
        MenuItem("Collections", "/admin/terminals/collections", permission="terminals.view", order=31),
    ]


@hookimpl
def register_commands(cli):
    cli.add_command(commands.terminals)


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.terminals.demo import load

    await load(platform, progress)
