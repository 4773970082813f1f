"""Ledger throughput: batched, single requests through group commit, a naive baseline, hot vs uniform.

    python -m bench ledger                       # short run (see DEFAULT_SECONDS)
    python -m bench ledger --seconds 60 --json   # the issue's sustained run, one JSON object

The benchmark runs its own embedded PostgreSQL in ``var/bench-ledger/`` (``synchronous_commit``
on; ``shared_buffers`` 1 GB as in the reference workload, ``--stock`` keeps 128 MB). The first
run seeds a template database with ``--accounts`` wallets and ``--existing`` transfers made
through the ledger itself (so digests and running totals are real); later runs copy it.

Workload, the same in every phase: 50 % of transfers touch one hot account (the platform's
settlement account), 10 % retry an id already used (answered ``exists``), 5 % are two-phase
(a pending transfer, later posted in full or in part or voided), about 1 % are refused for
lack of funds. Phases, each ``--seconds`` long:

* **batched**: producers submit lists of 1,000 requests; the group commit merges them.
* **single**: 64 coroutines each submit one transfer at a time; latency per request.
* **baseline**: the naive way, one database transaction per transfer (same rules, row locks),
  16 concurrent connections.
* **uniform**: batched, without the hot account.

Figures count transfers created per second (retries answered ``exists`` are not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECONDS = 15
DATA_DIR = Path("var/bench-ledger")
SEED_DB = "kopilka_bench_seed"
RUN_DB = "kopilka_bench"
FUND = 100_000_00  # each wallet starts with 100,000.00
TARGETS = {
    "transfers_per_s": 25_000,
    "single_requests_per_s": 3_000,
    "single_p99_ms": 25,
    "hot_over_uniform": 0.9,
}


# -- the server ------------------------------------------------------------------------------


def start_server(stock: bool) -> Any:
    from core.db.embedded import embedded_server

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    server = embedded_server(DATA_DIR / "pg", cleanup_mode=None)
    want = "128MB" if stock else "1GB"
    current = server.psql("SHOW shared_buffers;")
    if want not in current:
        from pgserver._commands import pg_ctl

        server.psql(f"ALTER SYSTEM SET shared_buffers = '{want}';")
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)
    return server


def stop_server(server: Any) -> None:
    from pgserver._commands import pg_ctl

    with contextlib.suppress(Exception):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=60)


# -- the workload ------------------------------------------------------------------------------


@dataclass
class Workload:
    """Builds requests: hot-account share, retries, two-phase and refusals, as the issue defines them."""

    hot: int | None
    first_wallet: int
    wallets: int
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    done: deque[Any] = field(default_factory=lambda: deque(maxlen=50_000))
    pending: deque[Any] = field(default_factory=deque)

    def __post_init__(self) -> None:
        # Imported once here, not per request: the client shares the CPU with the ledger.
        from core.ledger import NewTransfer, PostPending, VoidPending, new_transfer_id

        self._types = NewTransfer, PostPending, VoidPending, new_transfer_id

    def wallet(self) -> int:
        return self.first_wallet + int(self.rng.random() * self.wallets)

    def request(self) -> Any:
        # random() and arithmetic rather than randrange/randint: the client shares the CPU with the ledger.
        NewTransfer, PostPending, VoidPending, new_transfer_id = self._types

        random_ = self.rng.random
        roll = random_()
        if roll < 0.10 and self.done:  # a retry of an id already used
            return self.done[int(random_() * len(self.done))]
        if roll < 0.125 and self.pending:  # the second phase of a two-phase transfer
            pending = self.pending.popleft()
            if random_() < 0.8:
                amount = None if random_() < 0.5 else max(1, pending.amount // 2)
                return PostPending(id=new_transfer_id(), pending_id=pending.id, amount=amount)
            return VoidPending(id=new_transfer_id(), pending_id=pending.id)
        amount = 1 + int(random_() * 5_000_00) if random_() > 0.01 else 10**12  # ~1 % lack the funds
        if self.hot is not None and random_() < 0.5:
            if random_() < 0.5:
                debit, credit = self.hot, self.wallet()  # payouts, interest
            else:
                debit, credit = self.wallet(), self.hot  # fees, repayments
        else:
            debit, credit = self.wallet(), self.wallet()
            while credit == debit:
                credit = self.wallet()
        return NewTransfer(
            id=new_transfer_id(),
            debit_account_id=debit,
            credit_account_id=credit,
            amount=amount,
            code="bench",
            pending=roll < 0.15,
        )

    def completed(self, requests: list[Any], results: list[Any]) -> tuple[int, int]:
        NewTransfer = self._types[0]
        created = 0
        for request, result in zip(requests, results, strict=True):
            if result.created:
                created += 1
                self.done.append(request)
                if type(request) is NewTransfer and request.pending:
                    self.pending.append(request)
        return created, len(results)


# -- phases ------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    created: int = 0
    requests: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    wal_bytes: int = 0
    batches: int = 0
    batch_transfers: int = 0
    transaction_s: float = 0.0
    python_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0

    def start(self, ledger: Any) -> None:
        gc = ledger.group_commit
        self._base = (gc.batches, gc.transfers, gc.transaction_s, time.process_time(), postgres_cpu())

    def stop(self, ledger: Any) -> None:
        gc = ledger.group_commit
        self.batches = gc.batches - self._base[0]
        self.batch_transfers = gc.transfers - self._base[1]
        self.transaction_s = gc.transaction_s - self._base[2]
        self.python_cpu_s = time.process_time() - self._base[3]
        self.postgres_cpu_s = postgres_cpu() - self._base[4]

    @property
    def cpu_us_per_request(self) -> float:
        """CPU of this process and of the server per request: what the machine's load cannot change."""
        return 1e6 * (self.python_cpu_s + self.postgres_cpu_s) / self.requests if self.requests else 0.0

    @property
    def mean_batch(self) -> float:
        return self.batch_transfers / self.batches if self.batches else 0.0

    @property
    def mean_transaction_ms(self) -> float:
        return 1000 * self.transaction_s / self.batches if self.batches else 0.0

    @property
    def per_s(self) -> float:
        return self.created / self.seconds if self.seconds else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


_POSTMASTER: list[Any] = []


def postgres_cpu() -> float:
    """CPU seconds used so far by the benchmark's PostgreSQL (postmaster and its processes)."""
    import psutil

    total = 0.0
    for process in _POSTMASTER:
        try:
            for p in [process, *process.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


async def _wal_lsn(db: Any) -> int:
    return int(await db.fetchval("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))


async def run_batched(
    name: str, ledger: Any, workload: Workload, seconds: float, producers: int = 8, size: int = 1000
) -> Phase:
    phase = Phase(name)
    deadline = time.perf_counter() + seconds
    lsn = await _wal_lsn(ledger.db)

    async def producer() -> None:
        while time.perf_counter() < deadline:
            requests = []
            for _ in range(size // 100):  # many clients, not one that hogs the event loop
                requests += [workload.request() for _ in range(100)]
                await asyncio.sleep(0)
            results = await ledger.submit(requests)
            created, count = workload.completed(requests, results)
            phase.created += created
            phase.requests += count

    phase.start(ledger)
    start = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(producers)))
    phase.seconds = time.perf_counter() - start
    phase.stop(ledger)
    phase.wal_bytes = await _wal_lsn(ledger.db) - lsn
    return phase


async def run_single(ledger: Any, workload: Workload, seconds: float, clients: int = 64) -> Phase:
    phase = Phase("single requests")
    deadline = time.perf_counter() + seconds
    lsn = await _wal_lsn(ledger.db)

    async def client() -> None:
        while time.perf_counter() < deadline:
            request = workload.request()
            began = time.perf_counter()
            results = await ledger.submit([request])
            phase.latencies_ms.append((time.perf_counter() - began) * 1000)
            created, count = workload.completed([request], results)
            phase.created += created
            phase.requests += count

    phase.start(ledger)
    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    phase.seconds = time.perf_counter() - start
    phase.stop(ledger)
    phase.wal_bytes = await _wal_lsn(ledger.db) - lsn
    return phase


async def run_baseline(ledger: Any, workload: Workload, seconds: float, connections: int = 16) -> Phase:
    """One database transaction per transfer: lock its accounts, check, write, commit."""
    from core.ledger.apply import apply_batch
    from core.ledger.batcher import run_with_retries

    phase = Phase("baseline (1 tx/transfer)")
    deadline = time.perf_counter() + seconds
    db = ledger.db
    lsn = await _wal_lsn(db)

    async def worker() -> None:
        while time.perf_counter() < deadline:
            request = workload.request()

            async def once(request=request):
                async with db.transaction() as conn:
                    return await apply_batch(conn, [request], ledger.catalog)

            began = time.perf_counter()
            outcome = (await run_with_retries(once)).outcome()
            phase.latencies_ms.append((time.perf_counter() - began) * 1000)
            created, count = workload.completed([request], outcome.results)
            phase.created += created
            phase.requests += count

    phase.start(ledger)
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    phase.seconds = time.perf_counter() - start
    phase.stop(ledger)
    phase.wal_bytes = await _wal_lsn(db) - lsn
    return phase


# -- seeding -----------------------------------------------------------------------------------


async def seed(admin_dsn: str, accounts: int, existing: int, progress: Any) -> None:
    from core.db.database import Database
    from core.ledger import Ledger, NewTransfer, new_transfer_id
    from core.testing import create_database, migrate_database

    dsn = await create_database(admin_dsn, SEED_DB)
    await migrate_database(dsn, [])
    db = Database(dsn, min_size=2, max_size=4)
    await db.start()
    try:
        ledger = Ledger(db)
        await ledger.start()
        hot = await ledger.open_account(owner="platform", purpose="settlement", currency="RUB")
        treasury = await ledger.open_account(owner="platform", purpose="treasury", currency="RUB")
        ledger_id = ledger.catalog.by_code["RUB"].id
        await db.execute(
            "INSERT INTO ledger_accounts (ledger_id, owner, purpose, flags)"
            " SELECT $1, 'user:' || g, 'wallet', 1 FROM generate_series(1, $2) AS g",
            ledger_id,
            accounts,
        )
        first = await db.fetchval("SELECT min(id) FROM ledger_accounts WHERE purpose = 'wallet'")
        progress(f"seeded {accounts} accounts; funding them")
        requests = [
            NewTransfer(
                id=new_transfer_id(),
                debit_account_id=treasury.id,
                credit_account_id=first + i,
                amount=FUND,
                code="fund",
            )
            for i in range(accounts)
        ]
        made = 0
        workload = Workload(hot.id, first, accounts)
        started = time.perf_counter()
        while made < existing:
            if not requests:
                requests = [workload.request() for _ in range(8190)]
            chunk, requests = requests[:8190], requests[8190:]
            results = await asyncio.gather(*(ledger.submit(chunk[i::2]) for i in range(2)))
            made += sum(1 for part in results for r in part if r.created)
            for i, part in enumerate(results):
                workload.completed(chunk[i::2], part)
            if made % 100_000 < 8190:
                rate = made / (time.perf_counter() - started)
                progress(f"seeded {made}/{existing} transfers ({rate:,.0f}/s)")
        await ledger.stop()
        await db.execute("VACUUM ANALYZE")
        await db.execute(
            "CREATE TABLE bench_meta (hot bigint, first_wallet bigint, wallets int, transfers bigint)"
        )
        await db.execute("INSERT INTO bench_meta VALUES ($1, $2, $3, $4)", hot.id, first, accounts, made)
    finally:
        await db.close()


async def seed_matches(admin_dsn: str, accounts: int, existing: int) -> bool:
    import asyncpg

    from core.testing import _dsn_for

    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", SEED_DB):
            return False
    finally:
        await conn.close()
    conn = await asyncpg.connect(_dsn_for(admin_dsn, SEED_DB))
    try:
        if not await conn.fetchval("SELECT to_regclass('bench_meta') IS NOT NULL"):
            return False
        row = await conn.fetchrow("SELECT wallets, transfers FROM bench_meta")
        return row is not None and row["wallets"] == accounts and row["transfers"] >= existing
    finally:
        await conn.close()


async def fresh_copy(admin_dsn: str) -> str:
    import asyncpg

    from core.testing import _dsn_for

    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{RUN_DB}" WITH (FORCE)')
        # FILE_COPY: copying a large template block by block through the WAL takes minutes.
        await conn.execute(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{SEED_DB}" STRATEGY = FILE_COPY')
    finally:
        await conn.close()
    return _dsn_for(admin_dsn, RUN_DB)


# -- the run -------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    import psutil

    from core.db.database import Database
    from core.heap import settle_after_startup
    from core.ledger import Ledger
    from core.ledger.settings import LedgerSettings

    server = start_server(args.stock)
    admin_dsn = server.get_uri("postgres")
    pid = int((server.pgdata / "postmaster.pid").read_text().split()[0])
    _POSTMASTER[:] = [psutil.Process(pid)]
    try:
        if args.fresh or not await seed_matches(admin_dsn, args.accounts, args.existing):
            progress("seeding the template database (first run only)")
            await seed(admin_dsn, args.accounts, args.existing, progress)
        dsn = await fresh_copy(admin_dsn)
        db = Database(dsn, min_size=4, max_size=24)
        await db.start()
        try:
            settings = {
                name: await db.fetchval(f"SHOW {name}")
                for name in (
                    "server_version",
                    "synchronous_commit",
                    "shared_buffers",
                    "max_wal_size",
                    "fsync",
                )
            }
            assert settings["synchronous_commit"] == "on", "the benchmark must run with synchronous_commit on"
            meta = await db.fetchrow("SELECT * FROM bench_meta")
            existing = await db.fetchval("SELECT count(*) FROM ledger_transfers")
            accounts = await db.fetchval("SELECT count(*) FROM ledger_accounts")
            ledger = Ledger(db, LedgerSettings(speculate=not args.plain))
            await ledger.start()
            # As `kopilka serve` does after start-up (core/heap.py).
            settle_after_startup()
            hot_mix = Workload(meta["hot"], meta["first_wallet"], meta["wallets"], random.Random(1))
            phases = []
            progress(f"batched, hot mix ({args.seconds:g} s)")
            phases.append(await run_batched("batched (hot mix)", ledger, hot_mix, args.seconds))
            progress(f"single requests ({args.seconds:g} s)")
            phases.append(await run_single(ledger, hot_mix, args.seconds))
            progress(f"naive baseline ({args.seconds:g} s)")
            phases.append(await run_baseline(ledger, hot_mix, args.seconds))
            progress(f"batched, uniform mix ({args.seconds:g} s)")
            uniform = Workload(None, meta["first_wallet"], meta["wallets"], random.Random(2))
            phases.append(await run_batched("batched (uniform)", ledger, uniform, args.seconds))
            speculation = ledger.group_commit.speculation.snapshot()
            await ledger.stop()
            progress("checking invariants")
            invariants = await check_invariants(db)
            if args.verify:
                progress("verifying every transfer (ledger verify)")
                report = await ledger.verify(progress=progress)
                invariants["verify"] = "ok" if report.ok else report.faults[0]
        finally:
            await db.close()
    finally:
        if not args.keep_server:
            stop_server(server)
    batched_phase, single, baseline, uniform_phase = phases
    return {
        "transfers_per_s": round(batched_phase.per_s),
        "single_requests_per_s": round(single.requests_per_s),
        "single_p99_ms": round(single.percentile(0.99), 2),
        "baseline_transfers_per_s": round(baseline.per_s),
        "hot_over_uniform": round(batched_phase.per_s / uniform_phase.per_s, 3) if uniform_phase.per_s else 0,
        "uniform_transfers_per_s": round(uniform_phase.per_s),
        "single_p50_ms": round(single.percentile(0.50), 2),
        "single_created_per_s": round(single.per_s),
        "baseline_p99_ms": round(baseline.percentile(0.99), 2),
        "wal_bytes_per_transfer": round(batched_phase.wal_bytes / batched_phase.created)
        if batched_phase.created
        else None,
        "mean_batch": round(batched_phase.mean_batch, 1),
        "mean_batch_transaction_ms": round(batched_phase.mean_transaction_ms, 1),
        "speculation": speculation,
        "seconds_per_phase": args.seconds,
        "accounts": accounts,
        "existing_transfers": existing,
        "postgres": settings,
        "load_average": os.getloadavg()[0],
        "invariants": invariants,
        "phases": [
            {
                "phase": p.name,
                "created_per_s": round(p.per_s),
                "requests_per_s": round(p.requests_per_s),
                "p50_ms": round(p.percentile(0.5), 2) if p.latencies_ms else None,
                "p99_ms": round(p.percentile(0.99), 2) if p.latencies_ms else None,
                "mean_batch": round(p.mean_batch, 1),
                "mean_batch_ms": round(p.mean_transaction_ms, 1),
                "cpu_us_per_request": round(p.cpu_us_per_request, 1),
                "python_cpu_share": round(p.python_cpu_s / (p.python_cpu_s + p.postgres_cpu_s), 2)
                if p.python_cpu_s + p.postgres_cpu_s
                else None,
            }
            for p in phases
        ],
    }


async def check_invariants(db: Any) -> dict[str, Any]:
    unbalanced = await db.fetch(
        "SELECT ledger_id FROM ledger_accounts GROUP BY ledger_id"
        " HAVING sum(debits_posted) <> sum(credits_posted) OR sum(debits_pending) <> sum(credits_pending)"
    )
    overdrawn = await db.fetchval(
        "SELECT count(*) FROM ledger_accounts WHERE flags & 1 = 1"
        " AND debits_posted + debits_pending > credits_posted"
    )
    holds = await db.fetchval("SELECT count(*) FROM ledger_holds")
    open_pending = await db.fetchval(
        "SELECT count(*) FROM ledger_transfers p WHERE p.kind = 1"
        " AND NOT EXISTS (SELECT 1 FROM ledger_transfers r WHERE r.pending_id = p.id)"
    )
    result = {
        "debits_equal_credits": not unbalanced,
        "overdrawn_accounts": overdrawn,
        "holds_match_open_pending": holds == open_pending,
    }
    if unbalanced or overdrawn or holds != open_pending:
        raise AssertionError(f"ledger invariants broken after the benchmark: {result}")
    return result


def print_table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 110))
    short = figures["seconds_per_phase"] < 60
    table = Table(
        title=f"Ledger benchmark: {figures['accounts']:,} accounts, "
        f"{figures['existing_transfers']:,} transfers at the start, "
        f"{figures['seconds_per_phase']:g} s per phase"
    )
    for column in (
        "phase",
        "transfers/s",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "batch",
        "ms/batch",
        "CPU µs/req",
    ):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for p in figures["phases"]:
        table.add_row(
            p["phase"],
            f"{p['created_per_s']:,}",
            f"{p['requests_per_s']:,}",
            "" if p["p50_ms"] is None else f"{p['p50_ms']}",
            "" if p["p99_ms"] is None else f"{p['p99_ms']}",
            f"{p['mean_batch']:g}" if p["mean_batch"] else "",
            f"{p['mean_batch_ms']:g}" if p["mean_batch"] else "",
            f"{p['cpu_us_per_request']:g}",
        )
    console.print(table)
    targets = Table(title="Against the targets")
    for column in ("figure", "measured", "target", "met"):
        targets.add_column(column)
    checks = [
        (
            "transfers_per_s (batched)",
            figures["transfers_per_s"],
            f">= {TARGETS['transfers_per_s']:,}",
            figures["transfers_per_s"] >= TARGETS["transfers_per_s"],
        ),
        (
            "single_requests_per_s",
            figures["single_requests_per_s"],
            f">= {TARGETS['single_requests_per_s']:,}",
            figures["single_requests_per_s"] >= TARGETS["single_requests_per_s"],
        ),
        (
            "single_p99_ms",
            figures["single_p99_ms"],
            f"<= {TARGETS['single_p99_ms']}",
            figures["single_p99_ms"] <= TARGETS["single_p99_ms"],
        ),
        (
            "hot_over_uniform",
            figures["hot_over_uniform"],
            f">= {TARGETS['hot_over_uniform']}",
            figures["hot_over_uniform"] >= TARGETS["hot_over_uniform"],
        ),
        ("baseline_transfers_per_s", figures["baseline_transfers_per_s"], "(reference)", None),
    ]
    for name, value, target, met in checks:
        targets.add_row(
            name,
            f"{value:,}" if isinstance(value, int) else str(value),
            target,
            "" if met is None else ("yes" if met else "NO"),
        )
    console.print(targets)
    pg = figures["postgres"]
    console.print(
        f"PostgreSQL {pg['server_version']}, synchronous_commit={pg['synchronous_commit']}, "
        f"shared_buffers={pg['shared_buffers']}, fsync={pg['fsync']}; "
        f"WAL {figures['wal_bytes_per_transfer']} B/transfer (batched); "
        f"load average {figures['load_average']:.1f} on {os.cpu_count()} cores"
    )
    batched = figures["phases"][0]
    if batched["cpu_us_per_request"]:
        console.print(
            f"Batched: {batched['cpu_us_per_request']:g} CPU µs per request (Python "
            f"{batched['python_cpu_share']:.0%}, PostgreSQL the rest): at most "
            f"{2e6 / batched['cpu_us_per_request']:,.0f} requests/s if both cores were ours alone"
        )
    if short:
        console.print(
            f"[yellow]Short run: {figures['seconds_per_phase']:g} s per phase. The targets are for 60 s "
            "sustained: python -m bench ledger --seconds 60[/yellow]"
        )


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench ledger", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help=f"length of each phase (default {DEFAULT_SECONDS}; the targets are for 60)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--accounts", type=int, default=100_000, help="wallets in the seed (default 100,000)")
    parser.add_argument(
        "--existing",
        type=int,
        default=1_000_000,
        help="transfers in the seed before measuring (default 1,000,000)",
    )
    parser.add_argument("--fresh", action="store_true", help="seed the template again")
    parser.add_argument(
        "--stock", action="store_true", help="keep PostgreSQL's default shared_buffers (128 MB)"
    )
    parser.add_argument(
        "--verify", action="store_true", help="run the full `ledger verify` afterwards (slow)"
    )
    parser.add_argument("--keep-server", action="store_true", help="leave the benchmark's PostgreSQL running")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="every batch takes its locks first (the ledger's speculate = false), to compare",
    )
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        if not args.json:
            print(f"  {message}", file=sys.stderr, flush=True)

    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover - uvloop comes with litestar[standard]
        runner = asyncio.run
    figures = runner(measure(args, progress))
    if args.json:
        print(json.dumps({k: figures[k] for k in figures if k != "phases"} | {"phases": figures["phases"]}))
    else:
        print_table(figures)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
