"""KYC: customers verify their identity (passport, ITN, SNILS) through the enabled checks; reviewers decide the rest."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.kyc import admin_routes
from plugins.kyc import routes as customer_routes
from plugins.kyc.records import PII_FIELDS
from plugins.kyc.service import KycService
from plugins.kyc.settings import KycSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return KycSettings


@hookimpl
def piccolo_apps():
    return ["plugins.kyc.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(KycService(platform, settings))


@hookimpl
def register_pii_fields(register):
    for field in PII_FIELDS:
        register(field)


@hookimpl
def routes():
    return [*customer_routes.ROUTES, *admin_routes.ADMIN_ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks, settings):
    from plugins.kyc import tasks as kyc_tasks

    tasks.task(kyc_tasks.run_checks, name="kyc.run_checks")
    tasks.task(kyc_tasks.poll, name="kyc.poll", schedule=[{"cron": settings.poll_cron}])
    tasks.task(kyc_tasks.retention, name="kyc.retention", schedule=[{"cron": "50 3 * * *"}])
    tasks.task(kyc_tasks.monitor, name="kyc.monitor")


@hookimpl
def permissions(register):
    register("kyc.review", "See customers' identity documents and verify or reject them")


@hookimpl
def site_menu():
    return [MenuItem("Verification", "/kyc", "login",
                     "Verify your identity with your passport and taxpayer number.", order=82)]


@hookimpl
def admin_menu():
    return [MenuItem("Identity verification", "/admin/kyc", "kyc.review",
                     "Customers' documents waiting for a decision.", order=45)]


@hookimpl
def register_commands(cli):
    from plugins.kyc.commands import kyc

    cli.add_command(kyc)


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.kyc.demo import load

    await load(platform, progress)
