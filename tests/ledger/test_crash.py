"""kill -9 in the middle of a batch: every transfer is then fully there or not at all,
and submitting the same ids again finishes the work exactly once."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from core.ledger import Ledger

from .conftest import open_wallets
from .crash_writer import BATCHES, plan

pytestmark = [pytest.mark.committed, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
PAUSE_AT = 4


async def test_kill_mid_batch_then_retry(make_platform, committed_db):
    platform = await make_platform(plugins=[], database=committed_db)
    ledger = platform.service(Ledger)
    treasury = await ledger.open_account(owner="platform", purpose="treasury", currency="RUB")
    wallets = await open_wallets(ledger, 20)
    wallet_ids = [w.id for w in wallets]

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.ledger.crash_writer",
        committed_db.dsn,
        str(treasury.id),
        *map(str, wallet_ids),
        "--pause-at",
        str(PAUSE_AT),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    lines = []
    while True:
        line = (await asyncio.wait_for(child.stdout.readline(), timeout=120)).decode().strip()
        assert line, f"the writer exited early: {lines}"
        lines.append(line)
        if line.startswith("WRITTEN"):
            break
    os.kill(child.pid, signal.SIGKILL)
    await child.wait()
    assert lines == [*(f"COMMITTED {n} 500" for n in range(1, PAUSE_AT)), f"WRITTEN {PAUSE_AT}"]

    # The server notices the dead client and rolls its transaction back.
    for _ in range(100):
        if not await committed_db.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in%'"
        ):
            break
        await asyncio.sleep(0.1)

    batches = plan(treasury.id, wallet_ids)
    present = {row["id"] for row in await committed_db.fetch("SELECT id FROM ledger_transfers")}
    committed_ids = {r.id for batch in batches[: PAUSE_AT - 1] for r in batch}
    killed_ids = {r.id for r in batches[PAUSE_AT - 1]}
    assert committed_ids <= present  # what was acknowledged is there
    assert not killed_ids & present  # the killed batch left nothing behind
    report = await ledger.verify()
    assert report.ok, report.faults  # balances, holds and running totals match what is present

    # Retrying every batch finishes the work: earlier batches answer "exists", the rest is written once.
    for number, batch in enumerate(batches, start=1):
        results = await ledger.submit(batch)
        codes = {r.code.value for r in results}
        assert codes == ({"exists"} if number < PAUSE_AT else {"ok"}), (number, codes)
    again = await ledger.submit([r for batch in batches for r in batch][:8190])
    assert {r.code.value for r in again} == {"exists"}
    assert await committed_db.fetchval("SELECT count(*) FROM ledger_transfers") == BATCHES * 500
    report = await ledger.verify()
    assert report.ok, report.faults
