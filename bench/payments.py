"""Provider callbacks through the whole stack: verified, applied, credited in the ledger, audited.

    python -m bench payments                    # short run
    python -m bench payments --seconds 30 --json

Runs its own embedded PostgreSQL in ``var/bench-payments/`` with a database migrated for the
payments plugin and Fondy. Pending top-ups are inserted in bulk; clients post Fondy's signed
``approved`` callbacks into the web app in-process (HTTP parsing, the users middleware,
signature check, the state machine, the ledger transfer, the audit row), ``--clients`` at a
time. Phases, each ``--seconds`` long:

* **first delivery**: each callback credits a top-up (one ledger transfer, status change, events);
* **replays**: the same callbacks again (acknowledged, nothing moves);
* **forged**: callbacks with a wrong signature (refused and audited);
* **baseline**: the ledger alone, one transfer per request at the same concurrency: the floor
  under what a callback costs.

The run ends by checking that every credited payment was credited exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SECONDS = 5
DATA_DIR = Path("var/bench-payments")
DB_NAME = "kopilka_bench_payments"


@dataclass
class Phase:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    failures: int = 0

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def run_phase(name: str, seconds: float, clients: int, step: Any) -> Phase:
    phase = Phase(name)
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def client() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            ok = await step()
            if ok:
                phase.latencies_ms.append((time.perf_counter() - t0) * 1000)
            else:
                phase.failures += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    phase.seconds = time.perf_counter() - started
    return phase


async def measure(args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    import httpx

    from core.db.database import Database
    from core.db.embedded import embedded_server
    from core.ledger import Ledger, new_transfer_id
    from core.platform import Platform
    from core.testing import create_database, deployment_text, drop_database, migrate_database
    from core.web.app import create_app
    from plugins.payments.fondy import signature
    from plugins.payments.postings import Postings
    from plugins.payments.service import Payments

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    server = embedded_server(DATA_DIR / "pg", cleanup_mode="stop")
    admin = server.get_uri("postgres")
    plugins = ["payments", "payments.fondy"]
    progress("migrating a fresh database")
    dsn = await create_database(admin, DB_NAME)
    await migrate_database(dsn, plugins)
    platform = Platform.from_deployment("bench.toml", text=deployment_text(
        plugins, {"payments.fondy": {"currencies": ["RUB"]}}))
    db = Database(dsn, min_size=4, max_size=args.clients + 4)
    await platform.start(db)
    try:
        app = create_app(platform)
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 4000))
        http = httpx.AsyncClient(transport=transport, base_url="http://bench")
        payments = platform.service(Payments)
        rng = random.Random(11)
        users = [uuid.uuid4() for _ in range(200)]
        queue: asyncio.Queue[tuple[uuid.UUID, int]] = asyncio.Queue()

        async def add_pending(count: int) -> None:
            rows = [(uuid.uuid4(), rng.choice(users), rng.randint(100_00, 50_000_00)) for _ in range(count)]
            await db.execute("SELECT 1")
            async with db.connection() as conn:
                await conn.executemany(
                    "INSERT INTO payments_payments (id, kind, user_id, gateway, amount_minor, currency, status, "
                    "next_check_at) VALUES ($1, 'topup', $2, 'fondy', $3, 'RUB', 'pending', now() + interval '1 day')",
                    rows)
            for payment_id, _user, amount in rows:
                queue.put_nowait((payment_id, amount))

        def body(payment_id: uuid.UUID, amount: int, key: str = "test") -> bytes:
            fields = {"order_id": str(payment_id), "merchant_id": "1396424", "amount": str(amount),
                      "currency": "RUB", "order_status": "approved", "response_status": "success",
                      "tran_type": "purchase", "payment_id": str(rng.randrange(10**9)),
                      "masked_card": "444455XXXXXX1111"}
            return json.dumps(signature.sign(key, fields)).encode()

        delivered: list[bytes] = []
        headers = {"content-type": "application/json"}

        async def first() -> bool:
            if queue.qsize() < args.clients:
                await add_pending(2000)
            payment_id, amount = queue.get_nowait()
            sent = body(payment_id, amount)
            reply = await http.post("/api/v1/payments/callbacks/fondy", content=sent, headers=headers)
            delivered.append(sent)
            return reply.status_code == 200

        async def replay() -> bool:
            reply = await http.post("/api/v1/payments/callbacks/fondy", content=rng.choice(delivered), headers=headers)
            return reply.status_code == 200

        async def forged() -> bool:
            reply = await http.post("/api/v1/payments/callbacks/fondy", content=body(uuid.uuid4(), 100_00, "wrong"),
                                    headers=headers)
            return reply.status_code == 400

        ledger = platform.service(Ledger)
        source = await ledger.open_account(owner="platform", purpose="bench.source", currency="RUB")
        wallets = [await payments.postings.wallet(u, "RUB") for u in users[:50]]

        async def baseline() -> bool:
            result = await ledger.transfer(id=new_transfer_id(), debit_account_id=source.id,
                                           credit_account_id=rng.choice(wallets).id, amount=rng.randint(1, 10_000),
                                           currency="RUB", code="bench")
            return result.accepted

        await add_pending(4000)
        phases = []
        for name, step in (("first delivery", first), ("replays", replay), ("forged", forged),
                           ("baseline: ledger transfer alone", baseline)):
            progress(f"{name} ({args.seconds:g} s, {args.clients} clients)")
            phases.append(await run_phase(name, args.seconds, args.clients, step))
        await http.aclose()

        progress("checking that nothing was credited twice")
        succeeded = await db.fetchval("SELECT count(*) FROM payments_payments WHERE status = 'succeeded'")
        credits = await db.fetchval("SELECT count(*) FROM ledger_transfers WHERE code = 'payments.topup'")
        expected = await db.fetchval(
            "SELECT coalesce(sum(amount_minor), 0) FROM payments_payments WHERE status = 'succeeded'")
        moved = await db.fetchval("SELECT coalesce(sum(amount), 0) FROM ledger_transfers WHERE code = 'payments.topup'")
        sample = await payments.store.get(uuid.UUID(json.loads(delivered[0])["order_id"]))
        assert sample is not None and await payments.postings.credited(sample) == sample.amount.minor
        exactly_once = succeeded == credits and expected == moved
        if not exactly_once:
            raise AssertionError(f"credited {credits} times for {succeeded} payments ({moved} vs {expected})")
        _ = Postings
    finally:
        await platform.stop()
        await drop_database(admin, DB_NAME)
        server.cleanup()
    first_phase, replays, forged_phase, base = phases
    return {
        "callbacks_per_s": round(first_phase.per_s),
        "callback_p50_ms": round(first_phase.percentile(0.5), 2),
        "callback_p99_ms": round(first_phase.percentile(0.99), 2),
        "replays_per_s": round(replays.per_s),
        "forged_per_s": round(forged_phase.per_s),
        "baseline_transfers_per_s": round(base.per_s),
        "baseline_p99_ms": round(base.percentile(0.99), 2),
        "callback_cost_vs_transfer": round(base.per_s / first_phase.per_s, 2) if first_phase.per_s else None,
        "credited_exactly_once": exactly_once,
        "payments_credited": succeeded,
        "clients": args.clients,
        "seconds_per_phase": args.seconds,
        "failures": {p.name: p.failures for p in phases if p.failures},
        "load_average": os.getloadavg()[0],
        "phases": [{"phase": p.name, "per_s": round(p.per_s), "p50_ms": round(p.percentile(0.5), 2),
                    "p99_ms": round(p.percentile(0.99), 2)} for p in phases],
    }


def print_table(figures: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Payment callbacks, {figures['clients']} clients, {figures['seconds_per_phase']:g} s per phase")
    for column in ("phase", "per s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for p in figures["phases"]:
        table.add_row(p["phase"], f"{p['per_s']:,}", f"{p['p50_ms']:.2f}", f"{p['p99_ms']:.2f}")
    console = Console()
    console.print(table)
    console.print(f"a first delivery costs {figures['callback_cost_vs_transfer']}x a bare ledger transfer; "
                  f"{figures['payments_credited']:,} payments credited, each exactly once: "
                  f"{figures['credited_exactly_once']}")


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench payments", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="length of each phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent callback senders")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)

    def progress(step: str) -> None:
        if not args.json:
            print(f"  {step}", file=sys.stderr, flush=True)

    figures = asyncio.run(measure(args, progress))
    if args.json:
        print(json.dumps(figures))
    else:
        print_table(figures)
    return figures
