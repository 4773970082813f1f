"""Users: registration, sign-in, sessions, profiles, and the admin's user management."""

from pathlib import Path

from markupsafe import Markup, escape

from core import hookimpl
from core.users import commands
from core.users.actions import user_actions
from core.users.middleware import CSRF_FIELD, CSRF_SCOPE_KEY, UNREAD_SCOPE_KEY, session_middleware_factory
from core.users.service import ITN_FIELD, PASSPORT_FIELD, PHONE_FIELD, Users
from core.users.sessions import Sessions
from core.users.settings import UsersSettings
from core.web.menu import MenuItem

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return UsersSettings


@hookimpl
def piccolo_apps():
    return ["core.users.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    register(Users(platform, settings))
    register(Sessions(platform, settings))


@hookimpl
def middleware(platform):
    return [session_middleware_factory(platform)]


@hookimpl
def template_context(request):
    token = request.scope.get(CSRF_SCOPE_KEY, "")
    return {
        "csrf_token": token,
        "csrf_input": Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'),
        "unread_notifications": request.scope.get(UNREAD_SCOPE_KEY, 0),
    }


@hookimpl
def routes():
    from core.users import account, admin, api, pages

    return [*pages.ROUTES, *account.ROUTES, *api.ROUTES, *admin.ROUTES]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def permissions(register):
    register("users.view", "See users, their accounts and activity")
    register("users.edit", "Change users' names and language")
    register("users.block", "Block and unblock users")
    register("users.delete", "Delete users (their personal data is erased)", sensitive=True)
    register("users.pii.view", "See users' passport data and taxpayer numbers")


@hookimpl
def register_approval_actions(register):
    for action in user_actions():
        register(action)


@hookimpl
def register_pii_fields(register):
    for field in (PHONE_FIELD, ITN_FIELD, PASSPORT_FIELD):
        register(field)


@hookimpl
def site_menu():
    return [
        MenuItem(
            "My money",
            "/account",
            "login",
            "Balances in every currency and the history of each account.",
            order=10,
        ),
        MenuItem("Profile", "/account/profile", "login", order=80),
        MenuItem("Security", "/account/security", "login", order=85),
        MenuItem("Sign in", "/login", "anonymous", order=90),
        MenuItem(
            "Register",
            "/register",
            "anonymous",
            "Open an account in a minute: an e-mail or a phone is enough.",
            order=91,
        ),
    ]


@hookimpl
def admin_menu():
    return [
        MenuItem("Users", "/admin/users", "users.view", "Find, edit, block and delete users.", order=10),
        MenuItem(
            "User statistics",
            "/admin/users/stats",
            "users.view",
            "Registrations and active users per day.",
            order=11,
        ),
    ]


@hookimpl
def register_tasks(tasks):
    from core.users import tasks as user_tasks

    tasks.task(user_tasks.housekeeping, name="users.housekeeping", schedule=[{"cron": "23 3 * * *"}])


@hookimpl
def register_commands(cli):
    cli.add_command(commands.users)


@hookimpl
async def load_demo_data(platform, progress):
    from core.users.demo import load

    await load(platform, progress)
