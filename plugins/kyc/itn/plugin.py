"""ITN: the taxpayer number's check digits, and the tax service's "Узнать ИНН" to see whose number it is."""

from core import hookimpl, sandbox
from plugins.kyc.itn.settings import ItnSettings, build_check


@hookimpl
def plugin_requires():
    return ["kyc"]


@hookimpl
def settings_schema():
    return ItnSettings


@hookimpl
def register_kyc_checks(register, platform, settings):
    register(build_check(settings, platform))


@hookimpl
def routes(platform, settings):
    if not settings.lookup or settings.base_url or not sandbox.sandbox_on(platform):
        return []
    from plugins.kyc.itn.emulator import FnsEmulator

    return [sandbox.mount("fns", FnsEmulator().app())]
