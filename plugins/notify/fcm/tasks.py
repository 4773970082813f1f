"""notify.fcm's tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from plugins.notify.fcm.devices import PushDevices


async def forget_old_sends(platform: Any) -> dict[str, int]:
    """Forget which devices old deliveries reached: they are over, no retry will ask."""
    days = platform.settings("notify.fcm").keep_sends_days
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return {"forgotten": await platform.service(PushDevices).forget_sends_before(moment)}


def register(tasks: Any) -> None:
    tasks.task(forget_old_sends, name="notify.fcm.forget_old_sends", schedule=[{"cron": "17 3 * * *"}])
