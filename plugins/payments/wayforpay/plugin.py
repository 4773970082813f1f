"""WayForPay: card payments through WayForPay's hosted page, refunds, recurring charges."""

from core import hookimpl
from plugins.payments import sandbox
from plugins.payments.wayforpay.emulator import build_emulator
from plugins.payments.wayforpay.settings import WayForPaySettings, build_gateway, uses_test_merchant


@hookimpl
def plugin_requires():
    return ["payments"]


@hookimpl
def settings_schema():
    return WayForPaySettings


@hookimpl
def register_payment_gateways(register, platform, settings):
    register(build_gateway(settings, platform))


@hookimpl
def on_startup(platform, settings):
    sandbox.warn_if_test_credentials(platform, "payments.wayforpay", uses_test_merchant(settings))


@hookimpl
def routes(platform, settings):
    if not sandbox.sandbox_on(platform) or settings.api_url or settings.pay_url:
        return []
    emulator = build_emulator(settings, public_url=sandbox.sandbox_url(platform, "wayforpay"))
    return [sandbox.mount("wayforpay", emulator)]
