"""Finding, loading and calling plugins.

Built-in plugins are listed in :data:`BUILTIN_PLUGINS`; installed distributions add
theirs through the entry-point group ``kopilka.plugins``. The essential plugins of
the core are always loaded; the rest load only when the deployment enables them.

Hooks are called through :class:`PluginSet` rather than ``pm.hook``: it calls each
plugin's implementation with that plugin's own settings and keeps track of which
plugin returned what, which ``kopilka plugins`` and the error messages need.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from core import hookspecs
from core.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "kopilka.plugins"

#: Plugins that make up the core; every deployment has them.
ESSENTIAL_PLUGINS: dict[str, str] = {
    "core.web": "core.web.plugin",
    "core.jobs": "core.jobs.plugin",
    "core.access": "core.access.plugin",
    "core.ledger": "core.ledger.plugin",
    "core.users": "core.users.plugin",
    "core.notifications": "core.notifications.plugin",
    "core.projects": "core.projects.plugin",
}

#: Plugins shipped in this repository that a deployment may enable.
BUILTIN_PLUGINS: dict[str, str] = {
    "notify.outbox": "plugins.notify.outbox.plugin",
    "notify.mts": "plugins.notify.mts.plugin",
    "notify.sendsay": "plugins.notify.sendsay.plugin",
    "notify.esputnik": "plugins.notify.esputnik.plugin",
    "notify.fcm": "plugins.notify.fcm.plugin",
    "payments": "plugins.payments.plugin",
    "payments.fondy": "plugins.payments.fondy.plugin",
    "payments.wayforpay": "plugins.payments.wayforpay.plugin",
    "payments.uniteller": "plugins.payments.uniteller.plugin",
    "payments.bank_transfer": "plugins.payments.bank_transfer.plugin",
    "crowdinvesting": "plugins.crowdinvesting.plugin",
    "lending": "plugins.lending.plugin",
    "scoring": "plugins.scoring.plugin",
    "scoring.ubki": "plugins.scoring.ubki.plugin",
    "scoring.mbki": "plugins.scoring.mbki.plugin",
    "scoring.scorista": "plugins.scoring.scorista.plugin",
    "kyc": "plugins.kyc.plugin",
    "kyc.itn": "plugins.kyc.itn.plugin",
    "kyc.passport": "plugins.kyc.passport.plugin",
    "kyc.snils": "plugins.kyc.snils.plugin",
    "terminals": "plugins.terminals.plugin",
    "terminals.ccnet": "plugins.terminals.ccnet.plugin",
    "terminals.id003": "plugins.terminals.id003.plugin",
    "meetings": "plugins.meetings.plugin",
    "signatures.code": "plugins.signatures.code.plugin",
    "cooperative": "plugins.cooperative.plugin",
}


def installed_plugins() -> dict[str, str]:
    """Every plugin this installation can load: name -> module path."""
    found = dict(BUILTIN_PLUGINS)
    for entry_point in _entry_points():
        found.setdefault(entry_point.name, entry_point.value)
    return found


def _import_available(module_path: str) -> bool:
    """True when the module of a built-in plugin exists in this checkout."""
    try:
        return importlib.util.find_spec(module_path) is not None
    except ModuleNotFoundError:
        return False


def available_plugins() -> dict[str, str]:
    """Installed plugins whose module can actually be found."""
    return {name: path for name, path in installed_plugins().items() if _import_available(path)}


@functools.cache
def _distributions_by_package() -> dict[str, list[str]]:
    return metadata.packages_distributions()  # scans every installed distribution: do it once


@functools.cache
def _entry_points() -> tuple[metadata.EntryPoint, ...]:
    return tuple(metadata.entry_points(group=ENTRY_POINT_GROUP))


def plugin_version(module: ModuleType) -> str:
    """Version of the distribution that ships ``module`` (kopilka's own for built-ins)."""
    top = module.__name__.split(".")[0]
    for dist_name in _distributions_by_package().get(top, []):
        try:
            return metadata.version(dist_name)
        except metadata.PackageNotFoundError:  # pragma: no cover - broken install
            continue
    try:
        return metadata.version("kopilka")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


@dataclass
class LoadedPlugin:
    """One plugin registered with the plugin manager."""

    name: str
    module: Any
    essential: bool
    version: str
    settings: Any = None
    #: What the plugin contributed, filled in as the platform is composed.
    routes: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        doc = inspect.getdoc(self.module) or ""
        return doc.splitlines()[0] if doc else ""


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("kopilka")
    pm.add_hookspecs(hookspecs)
    return pm


class PluginSet:
    """The enabled plugins of one platform, and the way to call their hooks."""

    def __init__(self, source: str = "<deployment>") -> None:
        self.source = source
        self.pm = new_plugin_manager()
        self.plugins: dict[str, LoadedPlugin] = {}

    # -- registration ---------------------------------------------------

    def add(self, name: str, module: Any, *, essential: bool = False) -> LoadedPlugin:
        self._check_hooks(name, module)
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as exc:
            raise ConfigError(self.source, name, "hooks", " ".join(str(exc).split())) from None
        version = plugin_version(module) if isinstance(module, ModuleType) else "0"
        loaded = LoadedPlugin(name=name, module=module, essential=essential, version=version)
        self.plugins[name] = loaded
        return loaded

    def remove(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.plugins.pop(name, None)

    @contextlib.contextmanager
    def temporary(self, name: str, plugin: Any) -> Iterator[LoadedPlugin]:
        """Register ``plugin`` for the duration of a block (tests: event listeners, extra registrations).

        Composition hooks (routes, tasks, settings) were called when the platform was built;
        to test those, build a platform with ``extra_plugins`` instead.
        """
        loaded = self.add(name, plugin)
        try:
            yield loaded
        finally:
            self.remove(name)

    def _check_hooks(self, name: str, module: Any) -> None:
        """Fail on a hook implementation whose hook does not exist or that asks for what the hook does not give.

        Checked before registering, so that the one-line error names the hook (pluggy's own
        message spans three lines and names neither the argument's hook nor the fix).
        """
        for attr in dir(module):
            obj = getattr(module, attr, None)
            opts = getattr(obj, "kopilka_impl", None)
            if opts is None:
                continue
            hook_name = opts.get("specname") or attr
            spec = getattr(hookspecs, hook_name, None)
            if not hasattr(spec, "kopilka_spec"):
                raise ConfigError(self.source, name, hook_name, "unknown hook: no such hook in core/hookspecs.py")
            given = list(inspect.signature(spec).parameters)
            asked = [
                p.name for p in inspect.signature(obj).parameters.values()
                if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            unknown = [arg for arg in asked if arg not in given]
            if unknown:
                raise ConfigError(
                    self.source, name, hook_name,
                    f"asks for {', '.join(unknown)}, which the hook does not give: {hook_name}({', '.join(given)})",
                )

    def load(self, names: list[str], local: dict[str, str] | None = None) -> None:
        """Register the essential plugins and the named ones, failing on unknown names."""
        for name, path in ESSENTIAL_PLUGINS.items():
            self.add(name, importlib.import_module(path), essential=True)
        known = {**installed_plugins(), **(local or {})}
        for name in names:
            if name in self.plugins:
                continue
            if name not in known:
                close = ", ".join(sorted(n for n in known if n.split(".")[0] == name.split(".")[0])) or "none"
                raise ConfigError(self.source, name, "plugins", f"unknown plugin (similar installed plugins: {close})")
            try:
                module = importlib.import_module(known[name])
            except ImportError as exc:
                raise ConfigError(self.source, name, "plugins", f"cannot import {known[name]}: {exc}") from None
            self.add(name, module)
        self.check_requirements()

    def check_requirements(self) -> None:
        for name, requires in self.each("plugin_requires"):
            for needed in requires or ():
                if needed not in self.plugins:
                    raise ConfigError(self.source, name, "plugins", f"requires plugin '{needed}', which is not enabled")

    # -- calling ----------------------------------------------------------

    def implementations(self, hook_name: str) -> list[pluggy.HookImpl]:
        """Implementations of a hook in call order (tryfirst first, then LIFO as pluggy does)."""
        caller = getattr(self.pm.hook, hook_name)
        return list(reversed(caller.get_hookimpls()))

    def call_impl(self, impl: pluggy.HookImpl, hook_name: str, kwargs: dict[str, Any]) -> Any:
        """Call one implementation with the arguments it asks for; ``settings`` is its plugin's."""
        loaded = self.plugins.get(impl.plugin_name)
        call_kwargs = dict(kwargs)
        call_kwargs["settings"] = loaded.settings if loaded else None
        try:
            args = [call_kwargs[arg] for arg in impl.argnames]
        except KeyError as exc:
            raise TypeError(
                f"plugin {impl.plugin_name!r}: hook {hook_name} asks for unknown argument {exc.args[0]!r}"
            ) from None
        return impl.function(*args)

    def each(self, hook_name: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call ``hook_name`` on every plugin that implements it; yield ``(plugin name, result)``.

        Each implementation receives only the arguments it asks for, and ``settings`` is
        that plugin's own settings. ``None`` results are skipped.
        """
        for impl in self.implementations(hook_name):
            result = self.call_impl(impl, hook_name, kwargs)
            if result is not None:
                yield impl.plugin_name, result

    def collect_registered(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a ``register``-style hook; return ``(plugin name, registered object)`` pairs."""
        found: list[tuple[str, Any]] = []
        for impl in self.implementations(hook_name):
            items: list[Any] = []
            self.call_impl(impl, hook_name, {**kwargs, "register": items.append})
            found.extend((impl.plugin_name, item) for item in items)
        return found

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Like :meth:`each`, flattening list results into ``(plugin name, item)`` pairs."""
        out: list[tuple[str, Any]] = []
        for name, result in self.each(hook_name, **kwargs):
            if isinstance(result, list | tuple):
                out.extend((name, item) for item in result)
            else:
                out.append((name, result))
        return out

    async def emit(self, hook_name: str, *, strict: bool = False, **kwargs: Any) -> None:
        """Call an event hook on every plugin, awaiting async implementations.

        The event has already happened (its transaction committed), so one listener's failure
        is logged and the other listeners still hear it; the caller, who did the work, does not
        see an error. ``strict=True`` raises instead (start-up: a plugin that cannot start
        must stop the platform).
        """
        for impl in self.implementations(hook_name):
            try:
                result = self.call_impl(impl, hook_name, kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                if strict:
                    raise
                log.exception("plugin %r: %s listener failed", impl.plugin_name, hook_name)

    def hooks_of(self, name: str) -> list[str]:
        plugin = self.pm.get_plugin(name)
        return sorted(caller.name for caller in self.pm.get_hookcallers(plugin) or [])

    def __contains__(self, name: str) -> bool:
        return name in self.plugins

    def __iter__(self) -> Iterator[LoadedPlugin]:
        return iter(self.plugins.values())
