"""Bank transfer: invoices with a payment reference and a PDF, statement import, payouts to bank accounts."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.payments import sandbox
from plugins.payments.bank_transfer import routes as bank_routes
from plugins.payments.bank_transfer.emulator import build_emulator
from plugins.payments.bank_transfer.settings import BankTransferSettings, build_gateway

HERE = Path(__file__).parent


@hookimpl
def plugin_requires():
    return ["payments"]


@hookimpl
def settings_schema():
    return BankTransferSettings


@hookimpl
def piccolo_apps():
    return ["plugins.payments.bank_transfer.piccolo_app"]


@hookimpl
def register_payment_gateways(register, platform, settings):
    register(build_gateway(settings, platform))


@hookimpl
def routes(platform, settings):
    handlers = list(bank_routes.ROUTES)
    if sandbox.sandbox_on(platform) and not settings.statement_url:
        emulator = build_emulator(settings, public_url=sandbox.sandbox_url(platform, "bank_transfer"))
        handlers.append(sandbox.mount("bank_transfer", emulator))
    return handlers


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def admin_menu():
    return [MenuItem("Bank transfers", "/admin/payments/bank", permission="payments.view", order=24)]
