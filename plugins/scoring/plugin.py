"""Scoring: inquiries to credit bureaus and scoring services, kept, cached, polled and judged by a policy."""

from pathlib import Path

from core import hookimpl
from core.web.menu import MenuItem
from plugins.scoring import admin_routes, api, commands, demo, pii
from plugins.scoring.service import ScoringService
from plugins.scoring.settings import ScoringSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return ScoringSettings


@hookimpl
def piccolo_apps():
    return ["plugins.scoring.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(ScoringService(platform, settings))


@hookimpl
def routes():
    return [*admin_routes.ADMIN_ROUTES, *api.API_ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks, settings):
    from plugins.scoring import tasks as scoring_tasks

    tasks.task(scoring_tasks.poll, name="scoring.poll", schedule=[{"cron": settings.poll_cron}])


@hookimpl
def permissions(register):
    register("scoring.view", "See credit inquiries, their status and the decisions (no personal data)")
    register("scoring.reports.view", "Open credit reports and the applicants' personal data (each look is audited)")
    register("scoring.inquire", "Ask credit bureaus and scoring services (each inquiry may be charged)")


@hookimpl
def register_pii_fields(register):
    for field in pii.FIELDS:
        register(field)


@hookimpl
def admin_menu():
    return [MenuItem("Credit inquiries", "/admin/scoring", permission="scoring.view", order=40)]


@hookimpl
def register_commands(cli):
    cli.add_command(commands.scoring)


@hookimpl
async def load_demo_data(platform, progress):
    await demo.load(platform, progress)
