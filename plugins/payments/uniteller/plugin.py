"""Uniteller: card payments through Uniteller's payment page, refunds, recurring charges."""

from core import hookimpl
from plugins.payments import sandbox
from plugins.payments.uniteller.emulator import build_emulator
from plugins.payments.uniteller.settings import UnitellerSettings, build_gateway, uses_test_merchant


@hookimpl
def plugin_requires():
    return ["payments"]


@hookimpl
def settings_schema():
    return UnitellerSettings


@hookimpl
def register_payment_gateways(register, platform, settings):
    register(build_gateway(settings, platform))


@hookimpl
def on_startup(platform, settings):
    sandbox.warn_if_test_credentials(platform, "payments.uniteller", uses_test_merchant(settings))


@hookimpl
def routes(platform, settings):
    if not sandbox.sandbox_on(platform) or settings.api_url:
        return []
    # Uniteller's notify URL is a back-office setting; the sandbox shop has ours.
    emulator = build_emulator(settings, public_url=sandbox.sandbox_url(platform, "uniteller"),
                              default_callback_url=sandbox.callback_url(platform, "uniteller"))
    return [sandbox.mount("uniteller", emulator)]
