"""Crowdinvesting: invest in staged projects, share their income exactly, gift certificates and referrals."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.crowdinvesting import admin_routes, events
from plugins.crowdinvesting import routes as crowd_routes
from plugins.crowdinvesting import tasks as crowd_tasks
from plugins.crowdinvesting.approvals import approval_actions
from plugins.crowdinvesting.certificates import CertificateService
from plugins.crowdinvesting.distribution import IncomeService
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.referrals import ReferralService
from plugins.crowdinvesting.settings import CrowdinvestingSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return CrowdinvestingSettings


@hookimpl
def piccolo_apps():
    return ["plugins.crowdinvesting.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    for service in (InvestmentService, IncomeService, CertificateService, ReferralService):
        register(service(platform, settings))


@hookimpl
def routes():
    return [*crowd_routes.ROUTES, *admin_routes.ADMIN_ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks, settings):
    tasks.task(crowd_tasks.refund_stage, name="crowdinvesting.refund_stage")
    tasks.task(crowd_tasks.refund_failed_stages, name="crowdinvesting.refund_failed_stages",
               schedule=[{"cron": settings.refund_cron}])
    tasks.task(crowd_tasks.expire_certificates, name="crowdinvesting.expire_certificates",
               schedule=[{"cron": settings.certificates_cron}])
    tasks.task(crowd_tasks.pay_referral_bonuses, name="crowdinvesting.pay_referral_bonuses",
               schedule=[{"cron": "41 * * * *"}])
    tasks.task(crowd_tasks.notify_investors, name="crowdinvesting.notify_investors")
    tasks.task(crowd_tasks.notify_users, name="crowdinvesting.notify_users")
    tasks.task(crowd_tasks.confirm_investments, name="crowdinvesting.confirm_investments")


@hookimpl
def permissions(register):
    register("crowdinvesting.view", "See fund-raising statistics, investors, certificates and referrals")
    register("crowdinvesting.manage", "Set projects' investment terms; refund failed stages")
    register("crowdinvesting.post_income", "Post income to be paid to investors", sensitive=True)
    register("crowdinvesting.qualify", "Record qualified-investor status (lifts the 259-FZ limit)", sensitive=True)


@hookimpl
def register_approval_actions(register):
    for action in approval_actions():
        register(action)


@hookimpl
def site_menu():
    return [
        MenuItem("Invest", "/crowdinvesting", order=20,
                 description="Invest in projects stage by stage, see how the money is spent, share their income."),
        MenuItem("Portfolio", "/crowdinvesting/portfolio", permission="login", order=21),
        MenuItem("Income calculator", "/crowdinvesting/calculator", order=22),
        MenuItem("Gift certificates", "/crowdinvesting/certificates", permission="login", order=23),
    ]


@hookimpl
def admin_menu():
    return [
        MenuItem("Crowdinvesting", "/admin/crowdinvesting", permission="crowdinvesting.view",
                 description="Fund-raising statistics, terms, income distribution.", order=30),
        MenuItem("Investors", "/admin/crowdinvesting/investors", permission="crowdinvesting.view",
                 description="Investors, their totals and qualified status.", order=31),
        MenuItem("Certificates and referrals", "/admin/crowdinvesting/certificates", permission="crowdinvesting.view",
                 description="Gift certificates and referral bonuses.", order=32),
    ]


@hookimpl
async def on_stage_changed(platform, stage, new_status):
    await events.stage_changed(platform, stage, new_status)


@hookimpl
async def on_publication(platform, publication):
    await events.published(platform, publication)


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.crowdinvesting.demo import load

    await load(platform, progress)
