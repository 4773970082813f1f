"""Meetings of creditors (127-FZ): register of claims, weighted voting with codes, protocols, a video room."""

from pathlib import Path

from core import hookimpl
from core.access.pii import PiiField
from core.web.menu import MenuItem
from plugins.meetings import tasks as meeting_tasks
from plugins.meetings.settings import MeetingsSettings

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return MeetingsSettings


@hookimpl
def piccolo_apps():
    return ["plugins.meetings.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    from plugins.meetings.cases import CaseService
    from plugins.meetings.protocol import ProtocolService
    from plugins.meetings.registration import RegistrationService
    from plugins.meetings.room import Rooms
    from plugins.meetings.service import MeetingService
    from plugins.meetings.voting import VotingService

    meetings = MeetingService(platform, settings)
    for service in (CaseService(platform, settings), meetings, RegistrationService(platform, settings, meetings.clock),
                    VotingService(platform, settings, meetings.clock), ProtocolService(platform, settings),
                    Rooms(platform, settings)):
        register(service)


@hookimpl
def routes():
    from plugins.meetings import admin_routes, routes, signalling

    return [*routes.ROUTES, *admin_routes.ADMIN_ROUTES, *signalling.ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def static_dirs():
    return {"meetings": HERE / "static"}


@hookimpl
def register_tasks(tasks, settings):
    tasks.task(meeting_tasks.run_due, name="meetings.run_due", schedule=[{"cron": settings.close_cron}])


@hookimpl
def permissions(register):
    register("meetings.organize", "Run creditors' meetings in one's own bankruptcy cases (arbitration manager)")
    register("meetings.supervise", "See and run the meetings of every case")


@hookimpl
def register_pii_fields(register):
    register(PiiField("meetings_claims", "id", "contact_enc"))


@hookimpl
def site_menu():
    return [MenuItem("Creditors' meetings", "/meetings", permission="login", order=40,
                     description="Take part in meetings of creditors: register, vote with a code, sign the protocol.")]


@hookimpl
def admin_menu():
    return [MenuItem("Creditors' meetings", "/admin/meetings", permission="meetings.organize",
                     description="Cases, the register of claims, meetings, registration, results and protocols.",
                     order=40)]


@hookimpl
def register_commands(cli):
    from plugins.meetings.commands import meetings_group

    cli.add_command(meetings_group)


@hookimpl
async def on_startup(platform, settings):
    missing = [m for m in settings.signature_methods if m not in platform.registry("signature_methods")]
    if missing:
        raise RuntimeError(f"meetings: signature method(s) {', '.join(missing)} not registered; enable "
                           f"signatures.{missing[0]} or change [plugins.meetings] signature_methods")


@hookimpl
async def on_shutdown(platform):
    from plugins.meetings.room import Rooms

    await platform.service(Rooms).close_all()


@hookimpl
async def load_demo_data(platform, progress):
    from plugins.meetings.demo import load

    await load(platform, progress)
