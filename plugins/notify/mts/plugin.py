"""notify.mts: SMS through MTS Exolve."""

from core import hookimpl, sandbox
from plugins.notify.mts.settings import MtsSettings, build_channel

EMULATOR_PERMISSION = "notify.mts.view"


@hookimpl
def settings_schema():
    return MtsSettings


@hookimpl
def register_notification_channels(register, platform, settings):
    channel = build_channel(settings, platform)
    if channel is not None:
        register(channel)


@hookimpl
def routes(platform, settings):
    if settings.base_url or not sandbox.sandbox_on(platform):
        return []
    from plugins.notify.mts.emulator import SANDBOX_KEY, MtsEmulator

    key = settings.api_key.get_secret_value() if settings.api_key else SANDBOX_KEY
    return [sandbox.mount("mts", MtsEmulator(key).app(), control_permission=EMULATOR_PERMISSION)]


@hookimpl
def permissions(register):
    register(
        EMULATOR_PERMISSION, "Read what the sandbox's MTS Exolve emulator received (one-time codes included)"
    )
