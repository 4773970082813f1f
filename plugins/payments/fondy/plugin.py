"""Fondy: card payments through Fondy's hosted page, refunds, recurring charges, card payouts."""

from core import hookimpl
from plugins.payments import sandbox
from plugins.payments.fondy.emulator import build_emulator
from plugins.payments.fondy.settings import FondySettings, build_gateway, uses_test_merchant


@hookimpl
def plugin_requires():
    return ["payments"]


@hookimpl
def settings_schema():
    return FondySettings


@hookimpl
def register_payment_gateways(register, platform, settings):
    register(build_gateway(settings, platform))


@hookimpl
def on_startup(platform, settings):
    sandbox.warn_if_test_credentials(platform, "payments.fondy", uses_test_merchant(settings))


@hookimpl
def routes(platform, settings):
    if not sandbox.sandbox_on(platform) or settings.api_url:
        return []
    return [sandbox.mount("fondy", build_emulator(settings, public_url=sandbox.sandbox_url(platform, "fondy")))]
