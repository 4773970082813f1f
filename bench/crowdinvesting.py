"""Crowdinvesting: income distribution to 100,000 investors, and contributions under contention.

    python -m bench crowdinvesting                      # 100,000 investors, 10 s of contention
    python -m bench crowdinvesting --investors 20000 --seconds 3 --json

1. **Distribution.** One income posting paid to N investors of a funded stage: the exact split,
   the payout rows and N + 1 ledger transfers in one transaction. Target: N = 100,000 in ≤ 10 s.
   Baseline: the same N transfers submitted straight to the ledger in one transaction. The re-run
   (which must create nothing) is timed too.
2. **Contention.** Many concurrent investors invest in one stage (one hot stage row, one hot escrow
   account) with every limit checked: the stage cap, the project's yearly cap and the 259-FZ yearly
   limit per investor; a tenth of the investors have declared 590,000 RUB elsewhere and hit the limit.
   Target: ≥ 500 contributions/s with p99 < 100 ms. Baseline: the same workers making plain ledger
   transfers from the wallets into one escrow account, no checks. After the run the invariants are
   checked: the stage's counter, the investments and the escrow balance agree, no investor is over
   the limit, and the ledger verifies.

The database is ``KOPILKA_BENCH_DATABASE_URL`` (a server where the user may create databases) or an
embedded PostgreSQL in a temporary folder. Setting up the distribution's investors writes their
rows directly (100,000 investments through the API would take minutes); only the posting is timed.
Tasks go to the durable PostgreSQL queue and are not run: sending them is a worker's job, as in a
deployment, so the messages to 100,000 investors do not run into the figures measured after them.

Each figure comes with the CPU it took: this process's (Python) and, with the embedded server,
PostgreSQL's. On a shared machine the wall clock depends on the load; the CPU seconds do much less.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

DEPLOYMENT = """
[platform]
name = "Kopilka bench"
plugins = ["crowdinvesting"]
data_dir = "{data_dir}"

[jobs]
broker = "postgres"

[database]
pool_max = {pool}
"""
RUB = 100
BENCH_DB = "kopilka_bench_crowd"
_POSTMASTER: list[Any] = []


def postgres_cpu() -> float | None:
    """CPU seconds used so far by the embedded PostgreSQL and its processes (None for an outside server)."""
    import psutil

    if not _POSTMASTER:
        return None
    total = 0.0
    for process in [_POSTMASTER[0], *_POSTMASTER[0].children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class Clock:
    """Wall clock and CPU seconds (this process's, PostgreSQL's) of one measured block."""

    def __enter__(self) -> Clock:
        self.started = (time.perf_counter(), time.process_time(), postgres_cpu())
        return self

    def __exit__(self, *_exc: object) -> None:
        wall, python, postgres = self.started
        self.seconds = time.perf_counter() - wall
        self.python_cpu = time.process_time() - python
        now = postgres_cpu()
        self.postgres_cpu = None if now is None or postgres is None else now - postgres

    def figures(self, prefix: str = "") -> dict[str, float | None]:
        return {f"{prefix}seconds": round(self.seconds, 3), f"{prefix}python_cpu_s": round(self.python_cpu, 2),
                f"{prefix}postgres_cpu_s": None if self.postgres_cpu is None else round(self.postgres_cpu, 2)}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench crowdinvesting", description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000, help="investors paid by the distribution")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each contention run")
    parser.add_argument("--workers", type=int, default=32, help="concurrent investors in the contention run")
    parser.add_argument("--people", type=int, default=2_000, help="distinct investors in the contention run")
    parser.add_argument("--pool", type=int, default=16, help="database connections")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    return parser.parse_args(argv)


@contextlib.asynccontextmanager
async def bench_platform(pool: int) -> AsyncIterator[Any]:
    from core.db.database import Database, activate
    from core.platform import Platform
    from core.testing import create_database, drop_database

    folder = Path(tempfile.mkdtemp(prefix="kpb-", dir="/tmp"))
    server = None
    admin = os.environ.get("KOPILKA_BENCH_DATABASE_URL")
    if not admin:
        import psutil

        from core.db.embedded import embedded_server

        server = embedded_server(folder / "pg", cleanup_mode="delete")
        admin = server.get_uri("postgres")
        _POSTMASTER[:] = [psutil.Process(int((Path(server.pgdata) / "postmaster.pid").read_text().split()[0]))]
    dsn = await create_database(admin, BENCH_DB)
    platform = Platform.from_deployment("bench.toml", text=DEPLOYMENT.format(data_dir=folder / "data", pool=pool))
    db = Database(dsn, min_size=2, max_size=pool)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # piccolo prints migrations; --json owns stdout
            await platform.start(db, migrate=True)
        yield platform
    finally:
        await platform.stop()
        activate(None)
        await drop_database(admin, BENCH_DB)
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
        _POSTMASTER.clear()


async def new_project(platform: Any, target: int, cap: int) -> tuple[Any, Any]:
    import datetime as dt

    from core.projects import ProjectService

    projects = platform.service(ProjectService)
    project = await projects.create_project(slug=f"bench-{uuid.uuid4().hex[:8]}", title="Bench", kind="crowdinvesting")
    project = await projects.update_project(project.id, visibility="published")
    stage = await projects.add_stage(project.id, title="Bench stage", target_minor=target, cap_minor=cap)
    stage = await projects.open_collection(stage.id, closes_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    return project, stage


async def funding_account(platform: Any) -> int:
    from core.ledger import Ledger

    return (await platform.service(Ledger).open_account(owner="platform", purpose="bench.funding",
                                                        currency="RUB")).id


# -- 1. distribution -------------------------------------------------------------------------------


async def seed_holders(platform: Any, n: int) -> tuple[Any, list[int], int]:
    """A funded stage with ``n`` investors (rows written directly; see the module's docstring)."""
    from plugins.crowdinvesting.investing import InvestmentService

    rng = random.Random(7)
    users = [uuid.uuid4() for _ in range(n)]
    amounts = [rng.randint(1_000, 600_000) * RUB for _ in range(n)]
    total = sum(amounts)
    project, stage = await new_project(platform, total, total)
    probe = await platform.service(InvestmentService).accounts.wallet(uuid.uuid4())
    db = platform.db
    async with db.transaction() as conn:
        ledger_id = await conn.fetchval("SELECT ledger_id FROM ledger_accounts WHERE id = $1", probe)
        wallets = [r["id"] for r in await conn.fetch(
            "INSERT INTO ledger_accounts (ledger_id, owner, purpose, flags) "
            "SELECT $1, 'user:' || u::text, 'wallet', 1 FROM unnest($2::uuid[]) WITH ORDINALITY AS t(u, i) "
            "ORDER BY i RETURNING id", ledger_id, users)]
        await conn.copy_records_to_table("crowd_investors", columns=["user_id", "wallet_account_id"],
                                         records=list(zip(users, wallets, strict=True)))
        year = time.gmtime().tm_year
        await conn.copy_records_to_table(
            "crowd_investments",
            columns=["id", "user_id", "project_id", "stage_id", "amount_minor", "currency", "year", "transfer_id"],
            records=[(uuid.uuid4(), u, project.id, stage.id, a, "RUB", year, uuid.uuid4())
                     for u, a in zip(users, amounts, strict=True)])
        await conn.execute("UPDATE projects_stages SET collected_minor = $2, contributions = $3, status = 'funded' "
                           "WHERE id = $1", stage.id, total, n)
    await db.execute("ANALYZE crowd_investments; ANALYZE crowd_investors; ANALYZE ledger_accounts")
    return project, wallets, total


async def bench_distribution(platform: Any, n: int) -> dict[str, Any]:
    from core.ledger import Ledger, NewTransfer, new_transfer_id
    from plugins.crowdinvesting.distribution import IncomeService

    project, wallets, _total = await seed_holders(platform, n)
    ledger = platform.service(Ledger)
    income = platform.service(IncomeService)
    amount = 12_345_678_91

    source = await funding_account(platform)
    with Clock() as baseline:
        async with platform.db.transaction():
            results = await ledger.submit([NewTransfer(id=new_transfer_id(), debit_account_id=source,
                                                       credit_account_id=w, amount=1_00, code="bench.baseline")
                                           for w in wallets])
    assert all(r.accepted for r in results)

    with Clock() as posting:
        distribution = await income.distribute(project.id, amount_minor=amount, period="bench")

    transfers_before = await platform.db.fetchval("SELECT count(*) FROM ledger_transfers")
    with Clock() as rerun:
        again = await income.distribute(project.id, amount_minor=amount, period="bench")
    transfers_after = await platform.db.fetchval("SELECT count(*) FROM ledger_transfers")
    paid = await platform.db.fetchval("SELECT sum(amount_minor)::bigint FROM crowd_payouts WHERE distribution_id = $1",
                                      distribution.id)
    assert paid == amount, (paid, amount)
    assert not again.created and transfers_after == transfers_before
    return {"investors": n, **posting.figures(), **baseline.figures("baseline_ledger_"),
            "rerun_seconds": round(rerun.seconds, 4), "rerun_created_transfers": transfers_after - transfers_before,
            "payouts_sum_exact": paid == amount, "target_seconds": 10, "met": posting.seconds <= 10}


# -- 2. contention ---------------------------------------------------------------------------------------


async def seed_investors(platform: Any, people: int) -> list[uuid.UUID]:
    from core.ledger import Ledger, NewTransfer, new_transfer_id
    from plugins.crowdinvesting.investing import InvestmentService

    investing = platform.service(InvestmentService)
    users = [uuid.uuid4() for _ in range(people)]
    wallets = []
    for chunk in range(0, people, 100):
        async def register(user: uuid.UUID) -> int:
            async with platform.db.transaction() as conn:
                return (await investing._register(conn, user)).wallet_account_id

        wallets += await asyncio.gather(*(register(u) for u in users[chunk:chunk + 100]))
    source = await funding_account(platform)
    results = await platform.service(Ledger).submit([
        NewTransfer(id=new_transfer_id(), debit_account_id=source, credit_account_id=w, amount=1_000_000 * RUB,
                    code="bench.topup") for w in wallets])
    assert all(r.accepted for r in results)
    year = investing.today().year
    for user in users[: people // 10]:  # a tenth are 10,000 RUB from their 259-FZ limit
        await investing.declare_elsewhere(user, year=year, amount_minor=590_000 * RUB)
    return users


async def hammer(seconds: float, workers: int, attempt) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        rng = random.Random(index)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            outcome = await attempt(rng)
            latencies.append(time.perf_counter() - started)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(workers)))
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"attempts": len(latencies), "ok": outcomes.get("ok", 0), "outcomes": outcomes,
            "per_second": round(outcomes.get("ok", 0) / wall, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
            "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1) if ordered else None}


async def bench_contention(platform: Any, seconds: float, workers: int, people: int) -> dict[str, Any]:
    from core.ledger import Ledger, new_transfer_id
    from core.projects import Conflict, ProjectService
    from plugins.crowdinvesting.investing import InvestmentService

    investing = platform.service(InvestmentService)
    projects = platform.service(ProjectService)
    ledger = platform.service(Ledger)
    users = await seed_investors(platform, people)
    wallets = {u: (await investing.investor(u)).wallet_account_id for u in users}

    _other, baseline_stage = await new_project(platform, 10**12, 10**12)
    escrow = (await projects.escrow_account(baseline_stage)).id

    async def plain_transfer(rng: random.Random) -> str:
        result = await ledger.transfer(id=new_transfer_id(), debit_account_id=wallets[rng.choice(users)],
                                       credit_account_id=escrow, amount=5_000 * RUB, code="bench.plain")
        return "ok" if result.accepted else result.code

    with Clock() as plain_clock:
        baseline = await hammer(seconds, workers, plain_transfer)
    baseline.update(plain_clock.figures("run_"))

    project, stage = await new_project(platform, 10**12, 10**12)

    async def invest(rng: random.Random) -> str:
        try:
            await investing.invest(rng.choice(users), project.id, 5_000 * RUB)
            return "ok"
        except Conflict as exc:
            return "limit" if "259-FZ" in str(exc.detail) else "refused"

    with Clock() as clock:
        measured = await hammer(seconds, workers, invest)
    measured.update(clock.figures("run_"))

    stage = await projects.stage(stage.id)
    invested = await platform.db.fetchval(
        "SELECT coalesce(sum(amount_minor), 0)::bigint FROM crowd_investments WHERE stage_id = $1", stage.id)
    escrow_balance = (await ledger.balance((await projects.escrow_account(stage)).id)).posted
    over = await platform.db.fetchval(
        "SELECT count(*) FROM crowd_investor_years WHERE invested_minor + declared_elsewhere_minor > $1",
        600_000 * RUB)
    verified = (await ledger.verify()).ok
    consistent = stage.collected_minor == invested == escrow_balance and stage.contributions == measured["ok"]
    return {**measured, "baseline_plain_transfers": baseline, "workers": workers, "investors": people,
            "seconds": seconds, "investors_over_limit": over, "counters_agree": consistent, "ledger_verifies": verified,
            "target_per_second": 500, "target_p99_ms": 100,
            "met": measured["per_second"] >= 500 and (measured["p99_ms"] or 0) < 100 and over == 0 and consistent}


# -- running -----------------------------------------------------------------------------------------------


def cpu(figures: dict[str, Any], prefix: str = "", per: int = 0) -> str:
    """CPU seconds as "Python + PostgreSQL" (microseconds each when ``per`` counts what they were spent on)."""
    python, postgres = figures[f"{prefix}python_cpu_s"], figures[f"{prefix}postgres_cpu_s"]
    if per:
        python, postgres = round(1e6 * python / per), None if postgres is None else round(1e6 * postgres / per)
    unit = " µs" if per else " s"
    return f"{python}{unit} + " + ("?" if postgres is None else f"{postgres}{unit}")


def print_table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    dist, cont = figures["distribution"], figures["contention"]
    base = cont["baseline_plain_transfers"]
    table = Table(title=f"crowdinvesting (load average {figures['load_average']} on {figures['cores']} cores)")
    for column in ("measure", "figure", "baseline (same run)", "target", "met"):
        table.add_column(column)
    table.add_row(f"distribute income to {dist['investors']:,} investors", f"{dist['seconds']} s",
                  f"{dist['baseline_ledger_seconds']} s (bare ledger batch)", "≤ 10 s", "yes" if dist["met"] else "NO")
    table.add_row("… CPU: Python + PostgreSQL", cpu(dist), cpu(dist, "baseline_ledger_"), "", "")
    table.add_row("… re-run of the same distribution", f"{dist['rerun_seconds']} s, "
                  f"{dist['rerun_created_transfers']} transfers", "", "creates nothing",
                  "yes" if dist["rerun_created_transfers"] == 0 else "NO")
    table.add_row(f"contributions, {cont['workers']} workers, one stage", f"{cont['per_second']}/s",
                  f"{base['per_second']}/s (plain transfers)", "≥ 500/s", "yes" if cont["per_second"] >= 500 else "NO")
    table.add_row("… latency p50 / p99", f"{cont['p50_ms']} / {cont['p99_ms']} ms",
                  f"{base['p50_ms']} / {base['p99_ms']} ms", "p99 < 100 ms",
                  "yes" if (cont["p99_ms"] or 0) < 100 else "NO")
    table.add_row("… CPU per contribution: Python + PostgreSQL", cpu(cont, "run_", cont["ok"]),
                  cpu(base, "run_", base["ok"]), "", "")
    table.add_row("… outcomes", ", ".join(f"{k} {v}" for k, v in sorted(cont["outcomes"].items())), "", "", "")
    table.add_row("… invariants", f"over limit: {cont['investors_over_limit']}, counters agree: "
                  f"{cont['counters_agree']}, ledger verifies: {cont['ledger_verifies']}", "", "all hold",
                  "yes" if cont["met"] or (cont["investors_over_limit"] == 0 and cont["counters_agree"]) else "NO")
    Console().print(table)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_platform(args.pool) as platform:
        distribution = await bench_distribution(platform, args.investors)
        contention = await bench_contention(platform, args.seconds, args.workers, args.people)
    return {"distribution": distribution, "contention": contention,
            "load_average": round(os.getloadavg()[0], 1), "cores": os.cpu_count()}


def main(argv: list[str]) -> dict[str, Any]:
    args = parse(argv)
    figures = asyncio.run(run(args))
    if args.json:
        print(json.dumps(figures, default=str))
    else:
        print_table(figures)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
