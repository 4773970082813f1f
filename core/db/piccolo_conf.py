"""The piccolo configuration module (``PICCOLO_CONF=core.db.piccolo_conf``).

``DB`` sends every piccolo query through the active platform database. ``APP_REGISTRY``
is filled by :func:`configure` with the piccolo apps of the enabled plugins, so
piccolo's own commands and ours see exactly the deployment's set.
"""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.conf.apps import AppRegistry

from core.db.engine import KopilkaEngine

DB = KopilkaEngine()
APP_REGISTRY = AppRegistry(apps=[])


def configure(app_modules: Sequence[str]) -> AppRegistry:
    global APP_REGISTRY
    APP_REGISTRY = AppRegistry(apps=list(app_modules))
    return APP_REGISTRY
