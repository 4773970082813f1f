"""The business date: the day the books are on, moved forward by close of day, not by the clock.

Close of day runs every registered close-of-day job for the current business date,
each inside its own transaction together with the record that it ran, so a job runs
exactly once per date however often close of day is retried; then the date advances.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from core.db.database import Database

if TYPE_CHECKING:
    from core.jobs.registry import CloseOfDayJob, TaskFunction
    from core.platform import Platform

log = logging.getLogger(__name__)


class BusinessCalendar:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def today(self) -> dt.date:
        return await self.db.fetchval("SELECT business_date FROM core_business_date")

    async def set(self, date: dt.date) -> None:
        """Move the business date (set-up, tests and back-office corrections)."""
        await self.db.execute("UPDATE core_business_date SET business_date = $1", date)

    async def has_run(self, job_name: str, date: dt.date) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM core_job_runs WHERE job_name = $1 AND business_date = $2", job_name, date
            )
        )

    async def run_once(self, job_name: str, date: dt.date, fn: TaskFunction, *args: object) -> bool:
        """Run ``fn(*args)`` unless ``job_name`` already ran for ``date``; True when it ran now."""
        async with self.db.transaction() as conn:
            claimed = await conn.fetchval(
                "INSERT INTO core_job_runs (job_name, business_date) VALUES ($1, $2)"
                " ON CONFLICT (job_name, business_date) DO NOTHING RETURNING id",
                job_name,
                date,
            )
            if claimed is None:
                return False
            await fn(*args)
            return True

    async def close_day(self, platform: Platform, jobs: list[CloseOfDayJob]) -> dt.date:
        """Run the close-of-day jobs for the current business date, then advance it. Returns the closed date."""
        date = await self.today()
        for job in jobs:
            ran = await self.run_once(job.name, date, job.fn, platform, date)
            log.info("close of day %s: %s %s", date, job.name, "ran" if ran else "already done")
        await self.db.execute(
            "UPDATE core_business_date SET business_date = business_date + 1 WHERE business_date = $1", date
        )
        return date
