"""notify.esputnik: SMS and e-mail through eSputnik."""

from core import hookimpl, sandbox
from plugins.notify.esputnik.settings import EsputnikSettings, build_channel

EMULATOR_PERMISSION = "notify.esputnik.view"


@hookimpl
def settings_schema():
    return EsputnikSettings


@hookimpl
def register_notification_channels(register, platform, settings):
    channel = build_channel(settings, platform)
    if channel is not None:
        register(channel)


@hookimpl
def routes(platform, settings):
    if settings.base_url or not sandbox.sandbox_on(platform):
        return []
    from plugins.notify.esputnik.emulator import SANDBOX_KEY, EsputnikEmulator

    key = settings.api_key.get_secret_value() if settings.api_key else SANDBOX_KEY
    return [
        sandbox.mount(
            "esputnik", EsputnikEmulator(settings.username, key).app(), control_permission=EMULATOR_PERMISSION
        )
    ]


@hookimpl
def permissions(register):
    register(
        EMULATOR_PERMISSION, "Read what the sandbox's eSputnik emulator received (one-time codes included)"
    )
