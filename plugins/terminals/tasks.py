"""Background work of the terminals plugin.

* ``terminals.runner`` (a worker loop: every worker process runs it) keeps the terminals'
  lines open; see :mod:`plugins.terminals.runner`.
* ``terminals.watchdog`` (every minute): terminals nobody has heard from for
  ``offline_after_s`` are shown offline with a line event saying since when (once per
  outage); kiosk sessions that ran out of time on such terminals end; used and expired
  deposit codes are deleted.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from core.web.i18n import gettext as _
from plugins.terminals.runner import Runner


async def run_terminals(platform: Any, stop: asyncio.Event) -> None:
    await Runner(platform, platform.settings("terminals")).run(stop)


async def watchdog(platform: Any) -> dict[str, int]:
    from plugins.terminals.service import Terminals

    terminals = platform.service(Terminals)
    settings = terminals.settings
    silent = 0
    for terminal in await terminals.store.silent(settings.offline_after_s):
        detail = _("no worker has heard from this terminal for %(seconds)s s", seconds=settings.offline_after_s)
        if await terminals.store.mark_offline(terminal.id, detail):
            await terminals.crediting.record_line(terminal, f"watchdog-{secrets.token_hex(6)}", detail)
            silent += 1
    ended = await platform.db.execute(
        "UPDATE terminals_sessions SET ended_at = now(), end_reason = 'timeout' "
        "WHERE ended_at IS NULL AND expires_at <= now()")
    return {"offline": silent, "sessions_ended": int(ended.split()[-1]),
            "codes_purged": await terminals.deposits.purge_codes()}
