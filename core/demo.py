"""Loading the demo data of every enabled plugin, dependencies first."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.platform import Platform


def plugin_order(platform: Platform) -> list[str]:
    """Plugin names, each after the plugins it requires (essential ones first)."""
    graph: dict[str, set[str]] = {p.name: set() for p in platform.plugins}
    for name, requires in platform.plugins.each("plugin_requires"):
        graph[name].update(r for r in requires if r in graph)
    essential = [p.name for p in platform.plugins if p.essential]
    for name in graph:
        if name not in essential:
            graph[name].update(essential)
    return list(TopologicalSorter(graph).static_order())


async def load_demo(platform: Platform, progress: Callable[[str], None]) -> None:
    order = {name: i for i, name in enumerate(plugin_order(platform))}
    impls = sorted(platform.plugins.implementations("load_demo_data"), key=lambda i: order.get(i.plugin_name, 0))
    for impl in impls:
        progress(f"demo data: {impl.plugin_name}")
        result = platform.plugins.call_impl(impl, "load_demo_data", {"platform": platform, "progress": progress})
        if inspect.isawaitable(result):
            await result
