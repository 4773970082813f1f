"""Close of day for a loan portfolio: how many loans a second the daily accrual gets through.

    python -m bench lending                      # 2,000 loans, days closed for up to 10 s
    python -m bench lending --loans 10000 --seconds 30 --json

On its own embedded PostgreSQL in ``var/bench-lending/``: ``--loans`` payday loans are issued
(through the service: the application, the schedule, the disbursement transfer), then:

* **baseline**: the same accrual maths (``accrue_day``) for every loan in memory, no database —
  the floor of what Python alone costs;
* **daily**: close of day one business date after another (``LendingService.accrue``: one
  transaction per loan, its row lock, two ledger transfers) until ``--seconds`` have passed;
* **catch-up**: one call that brings every loan forward by ``--catch-up`` missed days (each
  loan still one transaction, the transfers of all its days in one submit);
* **re-run**: close of day again for a date already accrued: must move nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA_DIR = Path("var/bench-lending")
DB_NAME = "kopilka_bench_lending"
START = dt.date(2026, 12, 1)


def baseline(loans: int) -> float:
    """Loans per second for the accrual maths alone."""
    from plugins.lending.schedule import accrue_day

    started = time.perf_counter()
    for _ in range(loans):
        accrue_day(principal_outstanding=10_000_00, overdue_principal=0, daily_rate=Decimal("0.008"),
                   penalty_daily_rate=Decimal("0.2") / 365, interest_exact=Decimal(0), interest_posted=0,
                   penalty_exact=Decimal(0), penalty_posted=0, headroom=10_000_00)
    return loans / (time.perf_counter() - started)


async def run(args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    from core.db.database import Database
    from core.db.embedded import embedded_server
    from core.jobs.runtime import Jobs
    from core.platform import Platform
    from core.testing import create_database, deployment_text, drop_database, migrate_database
    from plugins.lending.service import LendingService

    server = embedded_server(DATA_DIR / "pg", cleanup_mode="stop")
    admin = server.get_uri("postgres")
    plugins = ["lending"]
    progress("migrating a fresh database")
    await drop_database(admin, DB_NAME)
    dsn = await create_database(admin, DB_NAME)
    await migrate_database(dsn, plugins)
    platform = Platform.from_deployment("bench.toml", text=deployment_text(plugins))
    db = Database(dsn, min_size=2, max_size=10)
    await platform.start(db)
    try:
        await platform.service(Jobs).calendar.set(START)
        service = platform.service(LendingService)
        await service.products.save({"code": "payday", "name": "Payday", "min_amount": "1000", "max_amount": "30000",
                                     "min_term_days": 7, "max_term_days": 30, "daily_rate": "0.008"})
        await service.accounts.add_capital(args.loans * 10_000_00, "bench")
        progress(f"issuing {args.loans:,} loans")
        started = time.perf_counter()
        semaphore = asyncio.Semaphore(8)

        async def issue(n: int) -> None:
            async with semaphore:
                application = await service.apply(uuid.uuid4(), 10_000_00, 30, idempotency_key=f"bench-{n}")
                await service._disburse(application["id"])

        await asyncio.gather(*(issue(n) for n in range(args.loans)))
        issue_s = time.perf_counter() - started

        progress(f"daily close of day for up to {args.seconds:g} s")
        day, days, started = START, 0, time.perf_counter()
        while days == 0 or time.perf_counter() - started < args.seconds:
            await service.accrue(day)
            day += dt.timedelta(days=1)
            days += 1
        daily_s = time.perf_counter() - started

        progress(f"catch-up of {args.catch_up} days in one run")
        started = time.perf_counter()
        last = day + dt.timedelta(days=args.catch_up - 1)
        await service.accrue(last)
        catch_up_s = time.perf_counter() - started

        started = time.perf_counter()
        moved = await service.accrue(last)
        rerun_s = time.perf_counter() - started
        accrued = await db.fetchval("SELECT sum(interest_accrued_minor) FROM lending_loans")
        expected = args.loans * 80_00 * (days + args.catch_up)
    finally:
        await platform.stop()
        await drop_database(admin, DB_NAME)
        server.cleanup()
    return {
        "loans": args.loans,
        "issue_loans_per_s": round(args.loans / issue_s),
        "daily_days": days,
        "daily_loans_per_s": round(args.loans * days / daily_s),
        "catch_up_days": args.catch_up,
        "catch_up_loans_per_s": round(args.loans / catch_up_s),
        "catch_up_loan_days_per_s": round(args.loans * args.catch_up / catch_up_s),
        "rerun_moved": moved,
        "rerun_s": round(rerun_s, 3),
        "interest_exact": accrued == expected,
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench lending", description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=2000, help="loans in the portfolio")
    parser.add_argument("--seconds", type=float, default=10, help="how long to keep closing days")
    parser.add_argument("--catch-up", type=int, default=10, help="missed days in the catch-up phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        if not args.json:
            print(f"  … {message}", file=sys.stderr, flush=True)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    progress("baseline: the accrual maths in memory")
    floor = baseline(max(args.loans, 10_000))
    figures = {**asyncio.run(run(args, progress)), "baseline_maths_loans_per_s": round(floor),
               "load_average": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"\n  {args.loans:,} payday loans of 10 000 RUB at 0.8 %/day")
        print(f"  {'':40} {'loans/s':>10}")
        print(f"  {'baseline: accrual maths in memory':40} {figures['baseline_maths_loans_per_s']:>10,}")
        print(f"  {'issue (apply + disburse)':40} {figures['issue_loans_per_s']:>10,}")
        print(f"  {'close of day, one date':40} {figures['daily_loans_per_s']:>10,}   ({days_label(figures)})")
        print(f"  {'catch-up, ' + str(args.catch_up) + ' dates in one run':40} {figures['catch_up_loans_per_s']:>10,}"
              f"   ({figures['catch_up_loan_days_per_s']:,} loan-days/s)")
        print(f"  re-run of a closed date: {figures['rerun_moved']} loans moved in {figures['rerun_s']} s; "
              f"interest exact: {figures['interest_exact']}; load average {figures['load_average']:.1f}")
    return figures


def days_label(figures: dict[str, Any]) -> str:
    return f"{figures['daily_days']} dates closed"
