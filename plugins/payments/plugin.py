"""Payments: top-ups, withdrawals and saved cards over the enabled gateways, with the janitor and reconciliation."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.payments import admin_routes, approvals, cards, commands, notices
from plugins.payments import routes as customer_routes
from plugins.payments.service import Payments
from plugins.payments.settings import PaymentsSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return PaymentsSettings


@hookimpl
def piccolo_apps():
    return ["plugins.payments.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(Payments(platform, settings))


@hookimpl
def routes():
    return [*customer_routes.ROUTES, *admin_routes.ADMIN_ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def static_dirs():
    return {"payments": HERE / "static"}


@hookimpl
def register_tasks(tasks, settings):
    from plugins.payments import tasks as payment_tasks

    tasks.task(payment_tasks.janitor, name="payments.janitor", schedule=[{"cron": settings.janitor_cron}])
    tasks.task(payment_tasks.execute_payout, name="payments.execute_payout")
    tasks.task(payment_tasks.execute_refund, name="payments.execute_refund")
    tasks.task(payment_tasks.notify, name="payments.notify")
    tasks.close_of_day(payment_tasks.reconcile, name="payments.reconcile", order=50)


@hookimpl
def permissions(register):
    register("payments.view", "See payments, refused callbacks and reconciliation reports")
    register("payments.manage", "Ask providers again, import bank statements, clear reviews")
    register("payments.approve_payout", "Approve or reject withdrawals above the threshold", sensitive=True)
    register("payments.refund", "Refund pay-ins to customers' cards", sensitive=True)
    register("payments.mark_paid", "Mark a payment paid from the bank or the provider's dashboard", sensitive=True)


@hookimpl
def register_pii_fields(register):
    register(cards.TOKEN_FIELD)
    register(cards.DESTINATION_FIELD)


@hookimpl
def register_approval_actions(register):
    for action in approvals.ACTIONS:
        register(action)


@hookimpl
async def on_payment_status_changed(platform, payment, new_status):
    await notices.announce(platform, payment, new_status)


@hookimpl
def site_menu():
    return [MenuItem("Top up and withdraw", "/payments", permission="login",
                     description="Top up your balance by card or bank transfer, and withdraw it.", order=20)]


@hookimpl
def admin_menu():
    return [
        MenuItem("Payments", "/admin/payments", permission="payments.view", order=20),
        MenuItem("Withdrawals to approve", "/admin/payments/withdrawals", permission="payments.approve_payout",
                 order=21),
        MenuItem("Refused callbacks", "/admin/payments/callbacks", permission="payments.view", order=22),
        MenuItem("Reconciliation", "/admin/payments/reconciliation", permission="payments.view", order=23),
    ]


@hookimpl
def register_commands(cli):
    cli.add_command(commands.payments)



