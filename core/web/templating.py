"""One jinja2 environment for the whole site, and the helper pages are rendered with."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from litestar import MediaType, Request
from litestar.response import Template

from core.access import identity_of
from core.web import i18n
from core.web.menu import MenuItem
from core.web.middleware import REQUEST_ID_KEY

if TYPE_CHECKING:
    from core.platform import Platform

def build_environment(template_dirs: Iterable[Path]) -> Environment:
    """Folders in plugin call order: a plugin loaded later can override a core template."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs]),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(_=i18n.gettext, money=i18n.money, format_date=i18n.date, format_datetime=i18n.datetime)
    env.filters.update(money=lambda minor, currency: i18n.money(minor, currency), date=i18n.date,
                       datetime=i18n.datetime, number=i18n.number)
    return env


def visible(items: Iterable[MenuItem], request: Request[Any, Any, Any]) -> list[MenuItem]:
    identity = identity_of(request)
    shown = []
    for item in items:
        if item.permission is None:
            shown.append(item)
        elif item.permission == "login":
            if identity.is_authenticated:
                shown.append(item)
        elif item.permission == "anonymous":
            if not identity.is_authenticated:
                shown.append(item)
        elif identity.can(item.permission):
            shown.append(item)
    return sorted(shown, key=lambda i: (i.order, i.label))


def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    platform: Platform = request.app.state.platform
    menus = request.app.state.menus
    context: dict[str, Any] = {
        "platform_name": platform.core.platform.name,
        "identity": identity_of(request),
        "locale": i18n.current_locale(),
        "locales": i18n.LOCALES,
        "site_menu": visible(menus["site"], request),
        "admin_menu": visible(menus["admin"], request),
        "request_id": request.scope.get(REQUEST_ID_KEY, ""),
    }
    for _plugin, extra in platform.plugins.each("template_context", request=request):
        context.update(extra)
    return context


class PageTemplate(Template):
    """A template response whose context wins over litestar's own ``csrf_input``.

    Litestar adds a ``csrf_input`` of its built-in CSRF middleware (unused here: the users
    plugin provides CSRF protection and its ``csrf_input`` through ``template_context``).
    """

    def create_template_context(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {**super().create_template_context(request), **self.context}


def render(request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any) -> Template:
    return PageTemplate(
        template_name=template,
        context={**page_context(request), **context},
        status_code=status_code,
        media_type=MediaType.HTML,
    )
