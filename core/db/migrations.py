"""Migrating the piccolo apps of the enabled plugins, in dependency order."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig

from core.db import piccolo_conf

os.environ.setdefault("PICCOLO_CONF", "core.db.piccolo_conf")


@dataclass
class AppStatus:
    app_name: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not self.pending


class _Manager(BaseMigrationManager):
    """Piccolo's helpers for finding migration modules, without its printing.

    Piccolo imports migration files by their bare name from ``sys.path``, so two apps with a
    migration file of the same name (the same timestamp) get one module for both and the
    second app silently runs the first app's migration. Each file is loaded here under a
    name made from its folder instead.
    """

    def get_migration_modules(self, folder_path: str) -> dict[str, Any]:
        modules: dict[str, Any] = {}
        folder = Path(folder_path).resolve()
        prefix = "kopilka_migration_" + hashlib.sha1(str(folder).encode()).hexdigest()[:12]
        for path in sorted(folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            name = f"{prefix}.{path.stem}"
            module = sys.modules.get(name)
            if module is None:
                spec = importlib.util.spec_from_file_location(name, path)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module
                spec.loader.exec_module(module)
            migration_id = getattr(module, "ID", None)
            if migration_id:
                modules[migration_id] = module
        return modules


def sorted_app_configs(app_modules: list[str]) -> list[AppConfig]:
    piccolo_conf.configure(app_modules)
    finder = _Manager()
    return [finder.get_app_config(name) for name in finder.get_sorted_app_names()]


def sql_migration(migration_id: str, app_name: str, description: str, sql: str):
    """A piccolo migration's ``forwards`` that runs ``sql`` (several statements allowed).

    For schemas that need what piccolo's column API cannot say: CHECK constraints,
    partial indexes, triggers. Use it as ``forwards = sql_migration(ID, "app", DESCRIPTION, SQL)``.
    """

    async def forwards() -> MigrationManager:
        manager = MigrationManager(migration_id=migration_id, app_name=app_name, description=description)

        async def run() -> None:
            from core.db.database import active

            await active().execute(sql)

        manager.add_raw(run)
        return manager

    return forwards


async def _ensure_migration_table() -> None:
    await Migration.create_table(if_not_exists=True).run()


async def status(app_modules: list[str]) -> list[AppStatus]:
    await _ensure_migration_table()
    manager = _Manager()
    result = []
    for config in sorted_app_configs(app_modules):
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        ids = sorted(manager.get_migration_ids(modules))
        ran = set(await Migration.get_migrations_which_ran(app_name=config.app_name))
        result.append(
            AppStatus(config.app_name, applied=[i for i in ids if i in ran], pending=[i for i in ids if i not in ran])
        )
    return result


async def migrate(app_modules: list[str], progress: Callable[[str], None] | None = None) -> int:
    """Run every pending migration of the given apps; return how many ran."""
    await _ensure_migration_table()
    manager = _Manager()
    count = 0
    for config in sorted_app_configs(app_modules):
        modules = manager.get_migration_modules(config.resolved_migrations_folder_path)
        ran = set(await Migration.get_migrations_which_ran(app_name=config.app_name))
        for migration_id in sorted(set(manager.get_migration_ids(modules)) - ran):
            if progress:
                progress(f"{config.app_name}: {migration_id}")
            response = await modules[migration_id].forwards()
            if isinstance(response, MigrationManager):
                await response.run()
            await Migration.insert(Migration(name=migration_id, app_name=config.app_name)).run()
            count += 1
    return count
