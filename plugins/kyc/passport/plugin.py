"""Passports: the data's consistency and validity, and the MVD's list of invalid passports (downloaded daily)."""

from pathlib import Path

from core import hookimpl, sandbox
from core.web.menu import MenuItem
from plugins.kyc.passport.check import PassportCheck
from plugins.kyc.passport.invalid_list import InvalidPassports
from plugins.kyc.passport.settings import PassportSettings

HERE = Path(__file__).parent


@hookimpl
def plugin_requires():
    return ["kyc"]


@hookimpl
def settings_schema():
    return PassportSettings


@hookimpl
def piccolo_apps():
    return ["plugins.kyc.passport.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(InvalidPassports(platform, timeout_s=settings.timeout_s))


@hookimpl
def register_kyc_checks(register, platform, settings):
    invalid = platform.service(InvalidPassports) if settings.invalid_list else None
    register(PassportCheck(invalid, max_list_age_days=settings.max_list_age_days))


@hookimpl
def register_tasks(tasks, settings):
    from plugins.kyc.passport import tasks as passport_tasks

    if settings.invalid_list:
        tasks.task(passport_tasks.import_list, name="kyc.passport.import_list",
                   schedule=[{"cron": settings.import_cron}])


@hookimpl
def permissions(register):
    register("kyc.passport.manage", "See the imports of the list of invalid passports and start one")


@hookimpl
def routes(platform, settings):
    from plugins.kyc.passport import routes as passport_routes
    from plugins.kyc.passport.emulator import MvdEmulator

    found = list(passport_routes.ROUTES)
    if settings.invalid_list and sandbox.sandbox_on(platform) and not settings.list_url:
        found.append(sandbox.mount("mvd", MvdEmulator().app()))
    return found


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def admin_menu():
    return [MenuItem("Invalid passports list", "/admin/kyc/passport-list", "kyc.passport.manage",
                     "Imports of the MVD's list of invalid passports.", order=46)]


@hookimpl
async def load_demo_data(platform, settings, progress):
    from plugins.kyc.passport.demo import load

    await load(platform, settings, progress)
