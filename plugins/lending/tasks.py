"""Lending's scheduled work: close of day accrues interest and penalties and moves loans to overdue."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

log = logging.getLogger(__name__)


async def close_of_day(platform: Any, business_date: dt.date) -> None:
    """``lending.accrue`` (close of day, once per business date): accrue every open loan through the date."""
    from plugins.lending.service import LendingService

    moved = await platform.service(LendingService).accrue(business_date)
    log.info("lending close of day %s: %d loan(s) accrued", business_date, moved)
