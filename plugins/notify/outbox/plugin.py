"""notify.outbox: a notification channel for development and demos that keeps messages instead of sending them."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.notify.outbox.channel import OutboxChannel

HERE = Path(__file__).parent


@hookimpl
def sandbox_only():
    return "it keeps messages, one-time codes included, for admins to read instead of sending them"


@hookimpl
def piccolo_apps():
    return ["plugins.notify.outbox.piccolo_app"]


@hookimpl
def register_notification_channels(register, platform):
    register(OutboxChannel(platform))


@hookimpl
def permissions(register):
    register("notify.outbox.view", "Read the messages kept by the development outbox")


@hookimpl
def routes():
    from plugins.notify.outbox import routes as outbox_routes

    return [outbox_routes.outbox_page, outbox_routes.api_messages]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def admin_menu():
    return [
        MenuItem(
            "Outbox", "/admin/outbox", "notify.outbox.view", "Messages the demo would have sent.", order=60
        )
    ]
