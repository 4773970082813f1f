"""Lending: online microloans — products, applications with automatic decisions, signing by code,
disbursement to the wallet, daily accrual, repayment and extension."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.lending import routes as lending_routes
from plugins.lending import tasks as lending_tasks
from plugins.lending.service import LendingService
from plugins.lending.settings import LendingSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return LendingSettings


@hookimpl
def piccolo_apps():
    return ["plugins.lending.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(LendingService(platform, settings))


@hookimpl
def routes():
    return lending_routes.ROUTES


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks):
    tasks.close_of_day(lending_tasks.close_of_day, name="lending.accrue")


@hookimpl
def permissions(register):
    register("lending.view", "See loan applications and loans")
    register("lending.decide", "Approve or reject loan applications", sensitive=True)
    register("lending.products", "Configure loan products", sensitive=True)


@hookimpl
def site_menu():
    return [
        MenuItem("Loans", "/lending", order=40, description="Borrow online: calculator, application, your loans."),
        MenuItem("Loan calculator", "/lending/calculator", order=41),
        MenuItem("My loans", "/lending/loans", permission="login", order=42),
    ]


@hookimpl
def admin_menu():
    return [
        MenuItem("Loan applications", "/admin/lending/applications", permission="lending.view",
                 description="The queue of applications waiting for a decision.", order=40),
        MenuItem("Loans", "/admin/lending/loans", permission="lending.view",
                 description="Issued loans, overdue ones first.", order=41),
        MenuItem("Loan products", "/admin/lending/products", permission="lending.products",
                 description="Amounts, terms and rates for first-time and returning customers.", order=42),
    ]


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.lending.demo import load

    await load(platform, progress)
