"""Notifications to users: in-app messages and delivery through the enabled channels."""

from pathlib import Path

from core import hookimpl
from core.notifications.service import PAYLOAD_CONTEXT, NotificationService
from core.notifications.settings import NotificationSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return NotificationSettings


@hookimpl
def piccolo_apps():
    return ["core.notifications.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(NotificationService(platform, settings))


@hookimpl
def routes():
    from core.notifications import routes as notification_routes

    return notification_routes.ROUTES


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks):
    from core.notifications import tasks as notification_tasks

    tasks.task(
        notification_tasks.deliver_due, name="notifications.deliver_due", schedule=[{"cron": "* * * * *"}]
    )


@hookimpl
def register_pii_fields(register):
    from core.access.pii import PiiField

    table, column = PAYLOAD_CONTEXT.split(".")
    register(PiiField(table, "id", column))
