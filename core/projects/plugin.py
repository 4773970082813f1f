"""Staged projects: budgets split into stages with escrow accounts."""

from pathlib import Path

from core import hookimpl
from core.files import Files
from core.projects import routes as project_routes
from core.projects import tasks as project_tasks
from core.projects.service import ProjectService
from core.projects.settings import ProjectsSettings
from core.web.menu import MenuItem

HERE = Path(__file__).parent


@hookimpl
def settings_schema():
    return ProjectsSettings


@hookimpl
def piccolo_apps():
    return ["core.projects.piccolo_app"]


@hookimpl
def register_services(register, platform, settings):
    settings = settings or ProjectsSettings()
    register(Files(platform, store_name=settings.file_store, max_bytes=settings.max_document_mb * 1024 * 1024))
    register(ProjectService(platform, settings))


@hookimpl
def routes():
    return project_routes.ROUTES


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def register_tasks(tasks, settings):
    settings = settings or ProjectsSettings()
    tasks.task(project_tasks.close_due_stages, name="projects.close_due_stages",
               schedule=[{"cron": settings.close_due_stages_cron}])


@hookimpl
def permissions(register):
    register("projects.view", "See every project, its spending and receipts in the admin area")
    register("projects.manage", "Create and change projects and stages, open and close collection, record "
                                "spending, publish news and reports")
    # Not "sensitive": approving spending is already the second person's step (four eyes on every entry).
    register("projects.approve_spending", "Approve spending: release money from a stage's escrow")


@hookimpl
def admin_menu():
    return [
        MenuItem("Projects", "/admin/projects", permission="projects.view",
                 description="Projects, stages, budgets, spending and publications."),
        MenuItem("Spending to approve", "/admin/projects/spending", permission="projects.view",
                 description="Entries waiting for finance's decision.", order=110),
    ]


@hookimpl
def static_dirs():
    return {"projects": HERE / "static"}
