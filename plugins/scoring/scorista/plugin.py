"""Scorista: a credit decision for the loan asked for, requested and then polled."""

from core import hookimpl
from plugins.scoring import sandbox
from plugins.scoring.scorista.settings import ScoristaSettings, build_provider, uses_sandbox_credentials


@hookimpl
def plugin_requires():
    return ["scoring"]


@hookimpl
def settings_schema():
    return ScoristaSettings


@hookimpl
def register_scoring_providers(register, platform, settings):
    register(build_provider(settings, platform))


@hookimpl
def on_startup(platform, settings):
    sandbox.warn_if_test_credentials(platform, "scoring.scorista", uses_sandbox_credentials(settings))


@hookimpl
def routes(platform, settings):
    if not sandbox.sandbox_on(platform) or settings.api_url:
        return []
    return [sandbox.mount("scorista")]
