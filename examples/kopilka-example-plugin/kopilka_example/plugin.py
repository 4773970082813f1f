"""Saving tips: a page and an API listing tips, one more added by a scheduled task."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from kopilka_example import routes as tip_routes
from kopilka_example import tasks as tip_tasks
from kopilka_example.settings import ExampleSettings


@hookimpl
def settings_schema():
    return ExampleSettings


@hookimpl
def piccolo_apps():
    return ["kopilka_example.piccolo_app"]


@hookimpl
def routes():
    return [tip_routes.tips_page, tip_routes.tips_api]


@hookimpl
def template_dirs():
    return [Path(__file__).parent / "templates"]


@hookimpl
def register_tasks(tasks, settings):
    tasks.task(tip_tasks.add_tip, name="example.add_tip",
               schedule=[{"cron": f"*/{settings.tip_every_minutes} * * * *"}])


@hookimpl
def site_menu():
    return [MenuItem("Saving tips", "/example/tips", description="A new tip on saving every few minutes.")]
