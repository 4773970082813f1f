"""The litestar application of a platform: the routes, templates and static files of its plugins."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

import swagger_ui_bundle
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin, YamlRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from core.web import errors, i18n
from core.web.logging import configure_logging
from core.web.menu import MenuItem
from core.web.middleware import locale_middleware_factory, request_id_middleware
from core.web.templating import build_environment

if TYPE_CHECKING:
    from core.platform import Platform

SWAGGER_DIR = Path(swagger_ui_bundle.swagger_ui_path)
SWAGGER_URL = "/static/swagger-ui"


def _route_paths(handler: Any) -> list[str]:
    """The paths a contributed handler, controller or router will serve."""
    if isinstance(handler, Router):
        return sorted({route.path for route in handler.routes})  # already prefixed with the router's path
    if isinstance(handler, BaseRouteHandler):
        return sorted(handler.paths)
    if inspect.isclass(handler):
        base = getattr(handler, "path", "") or ""
        paths = []
        for _name, member in inspect.getmembers(handler):
            if isinstance(member, BaseRouteHandler):
                paths.extend(f"{base.rstrip('/')}{p}" if p != "/" else base or "/" for p in member.paths)
        return sorted(set(paths))
    return []


class KopilkaApp(Litestar):
    """Litestar, with request ids and access logs around everything, unmatched routes included."""

    def __init__(self, *args: Any, default_locale: str = "ru", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Outside routing, so that a 404 for an unknown path is logged and translated too.
        self._with_request_id = request_id_middleware(locale_middleware_factory(default_locale)(super().__call__))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._with_request_id(scope, receive, send)


def create_app(platform: Platform, *, manage_platform: bool = False, debug: bool = False) -> Litestar:
    """Compose the app of ``platform`` (which must have been started, unless ``manage_platform``)."""
    configure_logging()
    handlers: list[Any] = []
    for plugin, handler in platform.plugins.collect("routes", platform=platform):
        handlers.append(handler)
        platform.plugins.plugins[plugin].routes.extend(_route_paths(handler))

    template_dirs = [Path(d) for _p, d in platform.plugins.collect("template_dirs")]
    static_routers = [create_static_files_router(path=SWAGGER_URL, directories=[SWAGGER_DIR], name="swagger-ui")]
    for _plugin, mapping in platform.plugins.each("static_dirs"):
        for prefix, directory in mapping.items():
            static_routers.append(
                create_static_files_router(path=f"/static/{prefix}", directories=[directory], name=f"static-{prefix}")
            )

    i18n.install_platform_catalogs(platform)

    menus: dict[str, list[MenuItem]] = {
        "site": [item for _p, item in platform.plugins.collect("site_menu", platform=platform)],
        "admin": [item for _p, item in platform.plugins.collect("admin_menu", platform=platform)],
    }
    plugin_middleware = [m for _p, m in platform.plugins.collect("middleware", platform=platform)]

    async def on_startup(app: Litestar) -> None:
        if manage_platform and not platform.started:
            await platform.start()

    async def on_shutdown(app: Litestar) -> None:
        if manage_platform:
            await platform.stop()

    app = KopilkaApp(
        default_locale=platform.core.web.default_locale,
        route_handlers=[*handlers, *static_routers],
        middleware=[
            *plugin_middleware,
            locale_middleware_factory(platform.core.web.default_locale),
        ],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(build_environment(template_dirs))),
        openapi_config=OpenAPIConfig(
            title=f"{platform.core.platform.name} API",
            version="1",
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{SWAGGER_URL}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER_URL}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER_URL}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_URL}/favicon-32x32.png'>",
                ),
                JsonRenderPlugin(),
                YamlRenderPlugin(),
            ],
        ),
        exception_handlers={HTTPException: errors.http_exception_handler, Exception: errors.internal_error_handler},
        compression_config=CompressionConfig(backend="gzip", minimum_size=1024),
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        debug=debug,
        logging_config=None,  # core.web.logging owns the format
    )
    app.state.platform = platform
    app.state.menus = menus
    return app
