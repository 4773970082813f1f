"""Which taskiq broker a deployment's ``[jobs] broker`` names.

``postgres`` (the default), ``memory`` and ``recording`` are built in, and so is ``redis://``.
Any other taskiq broker is chosen by its URL once a distribution maps the URL's scheme to a
factory in the entry-point group ``kopilka.brokers``::

    [project.entry-points."kopilka.brokers"]
    amqp = "kopilka_rabbitmq:make_broker"     # broker = "amqp://guest@rabbit//"

``make_broker(url, *, database, settings)`` gets the URL, the platform's
:class:`~core.db.Database` and the ``[jobs]`` settings, and returns a taskiq ``AsyncBroker``.
The broker must deliver again a task whose worker died (``settings.visibility_timeout_s``)
and keep a task kicked while no worker listens: the built-in ones are tested for both
(``tests/core/test_jobs.py``), a third-party one has to be too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib import metadata
from typing import Any

ENTRY_POINT_GROUP = "kopilka.brokers"
BUILT_IN = ("postgres", "memory", "recording")


def _redis(url: str, *, database: Any, settings: Any) -> Any:
    from core.jobs.redis_broker import DurableRedisBroker

    return DurableRedisBroker(url, visibility_timeout=settings.visibility_timeout_s,
                              poll_interval=settings.poll_interval_ms / 1000)


#: URL scheme -> ``factory(url, *, database, settings)``; entry points add to it.
URL_BROKERS: dict[str, Callable[..., Any]] = {"redis": _redis, "rediss": _redis}


@functools.cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def broker_schemes() -> set[str]:
    return set(URL_BROKERS) | set(_entry_points())


def url_broker(url: str, *, database: Any, settings: Any) -> Any:
    """The broker for ``url`` from the factory its scheme is registered with."""
    scheme = url.split("://", 1)[0]
    factory = URL_BROKERS.get(scheme)
    if factory is None and scheme in _entry_points():
        factory = _entry_points()[scheme].load()
    if factory is None:
        raise ValueError(f"no broker for {scheme}:// URLs; known: {', '.join(sorted(broker_schemes()))}")
    return factory(url, database=database, settings=settings)
