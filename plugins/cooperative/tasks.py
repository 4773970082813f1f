"""The cooperative's scheduled work: valuation at close of day."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

log = logging.getLogger(__name__)


async def valuate(platform: Any, business_date: dt.date) -> None:
    """``cooperative.valuate`` (close of day, once per business date): score, publish the queue and allot
    in every active program whose valuation calendar has the date. Idempotent: a program is valuated
    once per date (the stored valuation is the answer to any re-run)."""
    from plugins.cooperative.service import CooperativeService

    done = await platform.service(CooperativeService).valuate_all(business_date)
    log.info("cooperative close of day %s: %d program(s) valuated", business_date, done)
