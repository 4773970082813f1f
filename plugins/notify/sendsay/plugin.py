"""notify.sendsay: e-mail through Sendsay."""

from core import hookimpl, sandbox
from plugins.notify.sendsay.settings import SendsaySettings, build_channel

EMULATOR_PERMISSION = "notify.sendsay.view"


@hookimpl
def settings_schema():
    return SendsaySettings


@hookimpl
def register_notification_channels(register, platform, settings):
    channel = build_channel(settings, platform)
    if channel is not None:
        register(channel)


@hookimpl
def routes(platform, settings):
    if settings.base_url or not sandbox.sandbox_on(platform):
        return []
    from plugins.notify.sendsay.emulator import SendsayEmulator

    emulator = SendsayEmulator.for_settings(settings)
    return [sandbox.mount("sendsay", emulator.app(), control_permission=EMULATOR_PERMISSION)]


@hookimpl
def permissions(register):
    register(
        EMULATOR_PERMISSION, "Read what the sandbox's Sendsay emulator received (one-time codes included)"
    )
