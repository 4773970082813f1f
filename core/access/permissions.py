"""The permissions every enabled plugin declares through the ``permissions`` hook."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.platform import Platform

_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True)
class Permission:
    code: str
    description: str
    #: Acting on it needs a second person's approval (maker-checker).
    sensitive: bool = False
    plugin: str = ""


class PermissionRegistry:
    """Every declared permission, by code. A code declared twice is a start-up error."""

    def __init__(self) -> None:
        self._items: dict[str, Permission] = {}

    @classmethod
    def from_platform(cls, platform: Platform) -> PermissionRegistry:
        registry = cls()
        for impl in platform.plugins.implementations("permissions"):
            plugin = impl.plugin_name

            def register(code: str, description: str, sensitive: bool = False, _plugin: str = plugin) -> None:
                registry.add(Permission(code, description, bool(sensitive), _plugin))

            platform.plugins.call_impl(impl, "permissions", {"register": register})
        return registry

    def add(self, permission: Permission) -> None:
        if not _CODE.fullmatch(permission.code):
            raise ValueError(
                f"plugin {permission.plugin!r}: permission code {permission.code!r} must look like "
                "'<plugin>.<action>' in lower case"
            )
        existing = self._items.get(permission.code)
        if existing is not None:
            raise ValueError(
                f"plugin {permission.plugin!r}: permission {permission.code!r} is already declared "
                f"by {existing.plugin!r}"
            )
        self._items[permission.code] = permission

    def get(self, code: str) -> Permission | None:
        return self._items.get(code)

    def __contains__(self, code: str) -> bool:
        return code in self._items

    def __iter__(self) -> Iterator[Permission]:
        return iter(sorted(self._items.values(), key=lambda p: p.code))

    def __len__(self) -> int:
        return len(self._items)

    def codes(self) -> frozenset[str]:
        return frozenset(self._items)

    def is_sensitive(self, code: str) -> bool:
        found = self._items.get(code)
        return bool(found and found.sensitive)

    def matching(self, patterns: tuple[str, ...]) -> set[str]:
        """Codes matching any of ``patterns`` (``"*"``, ``"ledger.*"``, ``"*.view"`` or a code)."""
        found: set[str] = set()
        for pattern in patterns:
            regex = re.compile("^" + re.escape(pattern).replace(r"\*", "[a-z0-9_.]*") + "$")
            found.update(code for code in self._items if regex.match(code))
        return found
