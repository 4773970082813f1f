"""The platform: a deployment's plugins, settings, database and services, put together.

``Platform.from_deployment()`` does everything that can fail from configuration
(unknown plugins and hooks, missing dependencies, ill-typed settings) before any
connection is opened, so a broken deployment fails at once with one line.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from core.db import migrations
from core.db.database import Database, activate
from core.db.embedded import DATABASE_NAME, embedded_dsn, embedded_server, ensure_database
from core.deployment import Deployment, load_deployment, validation_error
from core.errors import ConfigError
from core.plugins import ESSENTIAL_PLUGINS, PluginSet

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Registration hooks and the registry each one fills.
REGISTRY_HOOKS = {
    "payment_gateways": "register_payment_gateways",
    "scoring_providers": "register_scoring_providers",
    "kyc_checks": "register_kyc_checks",
    "notification_channels": "register_notification_channels",
    "terminal_drivers": "register_terminal_drivers",
    "signature_methods": "register_signature_methods",
}


class Registry(Generic[T]):
    """Named objects handed over by plugins; a second object with the same name is an error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self.owners: dict[str, str] = {}

    def add(self, item: T, plugin: str) -> None:
        name = getattr(item, "name", None)
        if not name:
            raise TypeError(f"plugin {plugin!r}: a {self.kind} entry must have a non-empty 'name'")
        if name in self._items:
            raise ValueError(f"plugin {plugin!r}: {self.kind} {name!r} is already registered by {self.owners[name]!r}")
        self._items[name] = item
        self.owners[name] = plugin

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise LookupError(f"no {self.kind} named {name!r}; enabled: {', '.join(self._items) or 'none'}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def names(self) -> list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)


class Platform:
    def __init__(self, deployment: Deployment, plugins: PluginSet) -> None:
        self.deployment = deployment
        self.plugins = plugins
        self.db: Database | None = None
        self.registries: dict[str, Registry[Any]] = {}
        self._services: dict[type, object] = {}
        self._service_owner: dict[type, str] = {}
        self._embedded: Any = None
        self.started = False
        self.tasks: Any = None  # core.jobs.registry.TaskRegistry, built by compose()

    # -- building -----------------------------------------------------------

    @classmethod
    def from_deployment(
        cls,
        path: str | Path | None = None,
        *,
        text: str | None = None,
        extra_plugins: dict[str, Any] | None = None,
    ) -> Platform:
        deployment = load_deployment(path, text=text)
        return cls.build(deployment, extra_plugins=extra_plugins)

    @classmethod
    def build(cls, deployment: Deployment, *, extra_plugins: dict[str, Any] | None = None) -> Platform:
        plugins = PluginSet(deployment.source)
        for name, module in (extra_plugins or {}).items():
            plugins.add(name, module)
        plugins.load(deployment.enabled, deployment.core.platform.local_plugins)
        platform = cls(deployment, plugins)
        platform._validate_settings()
        platform._compose_tasks()
        return platform

    def _validate_settings(self) -> None:
        source = self.deployment.source
        sections = dict(self.deployment.plugin_sections)
        schemas = dict(self.plugins.each("settings_schema"))
        for loaded in self.plugins:
            raw = sections.pop(loaded.name, None)
            schema: type[BaseModel] | None = schemas.get(loaded.name)
            if schema is None:
                if raw:
                    raise ConfigError(source, loaded.name, next(iter(raw)), "this plugin takes no settings")
                continue
            try:
                loaded.settings = schema.model_validate(raw or {})
            except ValidationError as exc:
                raise validation_error(source, loaded.name, exc, schema=schema,
                                       secret_paths=self.deployment.secret_paths) from None
        if sections:
            name = sorted(sections)[0]
            raise ConfigError(source, name, "(section)", "settings given for a plugin that is not enabled")

    def _compose_tasks(self) -> None:
        from core.jobs.registry import TaskRegistry

        self.tasks = TaskRegistry()
        for impl in self.plugins.implementations("register_tasks"):
            self.tasks.current_plugin = impl.plugin_name
            self.plugins.call_impl(impl, "register_tasks", {"tasks": self.tasks})
        self.tasks.current_plugin = None
        for definition in [*self.tasks, *self.tasks.worker_loops()]:
            self.plugins.plugins[definition.plugin].tasks.append(definition.name)

    # -- settings and services ----------------------------------------------

    @property
    def core(self):
        return self.deployment.core

    def settings(self, plugin: str) -> Any:
        return self.plugins.plugins[plugin].settings

    @property
    def data_dir(self) -> Path:
        return self.deployment.data_dir

    def service(self, kind: type[T]) -> T:
        """The registered service of type ``kind`` (or a subclass of it)."""
        found = self._services.get(kind)
        if found is None:
            for registered_kind, service in self._services.items():
                if issubclass(registered_kind, kind):
                    found = service
                    break
        if found is None:
            raise LookupError(f"no service of type {kind.__name__}; is the plugin that provides it enabled?")
        return found  # type: ignore[return-value]

    def has_service(self, kind: type) -> bool:
        try:
            self.service(kind)
        except LookupError:
            return False
        return True

    def registry(self, kind: str) -> Registry[Any]:
        return self.registries[kind]

    def piccolo_app_modules(self) -> list[str]:
        modules: list[str] = []
        for plugin, module in self.plugins.collect("piccolo_apps"):
            modules.append(module)
            self.plugins.plugins[plugin].tables = _tables_of(module)
        return modules

    # -- running --------------------------------------------------------------

    def database_dsn(self) -> str:
        url = self.deployment.database_url()
        if url:
            return url
        if self._embedded is None:
            self._embedded = embedded_server(self.data_dir / self.core.database.embedded_dir)
        return embedded_dsn(self._embedded)

    async def start_database(self, db: Database | None = None) -> Database:
        if db is None:
            dsn = self.database_dsn()
            if self._embedded is not None:
                await ensure_database(self._embedded.get_uri("postgres"), DATABASE_NAME)
            db = Database(
                dsn,
                min_size=self.core.database.pool_min,
                max_size=self.core.database.pool_max,
                statement_timeout_ms=self.core.database.statement_timeout_ms,
            )
        await db.start()
        self.db = db
        activate(db)
        return db

    async def migrate(self, progress: Callable[[str], None] | None = None) -> int:
        assert self.db is not None
        async with self.db.connection() as conn:
            # One migrator at a time when several processes start together.
            await conn.execute("SELECT pg_advisory_lock(hashtext('kopilka.migrate'))")
            try:
                return await migrations.migrate(self.piccolo_app_modules(), progress)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext('kopilka.migrate'))")

    async def migration_status(self) -> list[migrations.AppStatus]:
        return await migrations.status(self.piccolo_app_modules())

    async def start(self, db: Database | None = None, *, migrate: bool = False) -> Platform:
        """Open the database, create services and registries, fire ``on_startup``."""
        await self.start_database(db)
        if migrate:
            await self.migrate()
        else:
            self.piccolo_app_modules()
        for plugin, service in self.plugins.collect_registered("register_services", platform=self):
            self._services[type(service)] = service
            self._service_owner[type(service)] = plugin
        for kind, hook in REGISTRY_HOOKS.items():
            registry: Registry[Any] = Registry(kind.replace("_", " ").rstrip("s"))
            for plugin, item in self.plugins.collect_registered(hook, platform=self):
                registry.add(item, plugin)
            self.registries[kind] = registry
        started: list[Any] = []
        try:
            for service in self._services.values():
                start = getattr(service, "start", None)
                if start is not None:
                    await start()
                started.append(service)
        except BaseException:
            # Stop what did start (batchers, listeners), or their tasks outlive the failed start.
            for service in reversed(started):
                stop = getattr(service, "stop", None)
                if stop is not None:
                    with contextlib.suppress(Exception):
                        await stop()
            raise
        self.started = True
        await self.plugins.emit("on_startup", platform=self, strict=True)
        return self

    async def stop(self) -> None:
        if self.started:
            await self.plugins.emit("on_shutdown", platform=self)
            for service in reversed(list(self._services.values())):
                stop = getattr(service, "stop", None)
                if stop is not None:
                    await stop()
            self.started = False
        if self.db is not None:
            await self.db.close()
        self._services.clear()

    def is_essential(self, name: str) -> bool:
        return name in ESSENTIAL_PLUGINS


def _tables_of(app_module: str) -> list[str]:
    try:
        config = importlib.import_module(app_module).APP_CONFIG
    except Exception:
        return []
    return [table._meta.tablename for table in config.table_classes]
