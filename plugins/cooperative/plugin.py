"""Cooperative: a consumer cooperative's savings programs (KOPIKUPI of seed 000) — members save a share
of a target price, a money × time score ranks them, and valuations allot purchases from the pool."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.cooperative import routes as cooperative_routes
from plugins.cooperative import tasks as cooperative_tasks
from plugins.cooperative.service import CooperativeService
from plugins.cooperative.settings import CooperativeSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return CooperativeSettings


@hookimpl
def piccolo_apps():
    return ["plugins.cooperative.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(CooperativeService(platform, settings))


@hookimpl
def routes():
    return cooperative_routes.ROUTES


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks):
    tasks.close_of_day(cooperative_tasks.valuate, name="cooperative.valuate")


@hookimpl
def permissions(register):
    register("cooperative.manage", "Configure cooperative programs and read the valuation log", sensitive=True)


@hookimpl
def site_menu():
    return [MenuItem("Cooperative", "/cooperative", order=50,
                     description="Save a share, take your place in the open queue, buy without a bank loan.")]


@hookimpl
def admin_menu():
    return [
        MenuItem("Cooperative programs", "/admin/cooperative/programs", permission="cooperative.manage",
                 description="Target prices and the queue's parameters.", order=50),
        MenuItem("Valuation log", "/admin/cooperative/valuations", permission="cooperative.manage",
                 description="Every valuation: the pool and what was allotted.", order=51),
    ]


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.cooperative.demo import load

    await load(platform, progress)
