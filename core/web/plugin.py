"""The web site's frame: layout, home page, languages, health checks and the API schema."""

from pathlib import Path

from core import hookimpl
from core.web import routes as pages

HERE = Path(__file__).parent


@hookimpl
def routes():
    return [pages.home, pages.admin_home, pages.set_language, pages.healthz, pages.readyz]


@hookimpl
def template_dirs():
    return [HERE / "templates"]


@hookimpl
def static_dirs():
    return {"core": HERE / "static"}
