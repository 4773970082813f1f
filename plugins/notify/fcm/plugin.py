"""notify.fcm: push notifications through Firebase Cloud Messaging to the devices users register."""

from core import hookimpl, sandbox
from plugins.notify.fcm.devices import PushDevices
from plugins.notify.fcm.settings import FcmSettings, account_of, build_channel

EMULATOR_PERMISSION = "notify.fcm.view"


@hookimpl
def settings_schema():
    return FcmSettings


@hookimpl
def piccolo_apps():
    return ["plugins.notify.fcm.piccolo_app"]


@hookimpl
def register_services(register, platform):
    register(PushDevices(platform))


@hookimpl
def register_notification_channels(register, platform, settings):
    channel = build_channel(settings, platform)
    if channel is not None:
        register(channel)


@hookimpl
def routes(platform, settings):
    from plugins.notify.fcm.routes import ROUTES

    if settings.base_url or not sandbox.sandbox_on(platform):
        return ROUTES
    from plugins.notify.fcm.emulator import FcmEmulator

    return [
        *ROUTES,
        sandbox.mount("fcm", FcmEmulator(account_of(settings, platform)).app(), control_permission=EMULATOR_PERMISSION),
    ]


@hookimpl
def register_tasks(tasks):
    from plugins.notify.fcm import tasks as fcm_tasks

    fcm_tasks.register(tasks)


@hookimpl
def permissions(register):
    register(EMULATOR_PERMISSION, "Read what the sandbox's FCM emulator received (one-time codes included)")
