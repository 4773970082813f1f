"""The MVD's invalid-passports list: parsing it streamed, importing it, and looking passports up.

    python -m bench kyc                          # 1,000,000 rows, 3 s of lookups
    python -m bench kyc --rows 5000000 --seconds 10 --json

The real list has over a hundred million rows, so what matters is rows per second and that
memory does not grow with the list. A bzip2 list of ``--rows`` rows is generated first. Phases:

* **baseline parse**: the obvious way, ``bz2.decompress`` of the whole file then ``csv``;
* **streamed parse**: the plugin's ``rows_of`` (bounded pieces, batches), same file;
* **import**: the plugin's ``InvalidPassports.load`` into PostgreSQL (COPY in batches, index,
  swap), on its own embedded server in ``var/bench-kyc/``;
* **lookups**: the passport check's query, ``--clients`` at a time for ``--seconds``, against
  ``SELECT 1`` over the same pool as the floor.

Each parse runs in a child process so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import bz2
import csv
import io
import json
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path("var/bench-kyc")
DB_NAME = "kopilka_bench_kyc"


def make_list(path: Path, rows: int, seed: int = 7) -> int:
    """A list like the MVD's: header, ``series,number`` rows, some with a reason, a few legacy ones."""
    rng = random.Random(seed)
    compressor = bz2.BZ2Compressor(9)
    written = 0
    with path.open("wb") as fh:
        fh.write(compressor.compress(b"PASSP_SERIES,PASSP_NUMBER,REASON\n"))
        for start in range(0, rows, 100_000):
            lines = []
            for _ in range(min(100_000, rows - start)):
                series, number = rng.randrange(100, 10_000), rng.randrange(1_000_000)
                reason = rng.choice(("", "", "1", "2"))
                lines.append(b"%04d,%06d,%s\n" % (series, number, reason.encode()))
            lines.append(b"IV-AB,123456,1\n")
            fh.write(compressor.compress(b"".join(lines)))
            written += len(lines)
        fh.write(compressor.flush())
    return written


def _baseline_parse(path: str) -> int:
    """Everything in memory at once: the file, its text, then every row (what a naive import holds)."""
    text = bz2.decompress(Path(path).read_bytes()).decode()
    rows = []
    for record in csv.reader(io.StringIO(text)):
        if len(record) >= 2 and len(record[0]) == 4 and len(record[1]) == 6 and record[0].isdigit() \
                and record[1].isdigit():
            reason = record[2] if len(record) > 2 and record[2].isdigit() else None
            rows.append((int(record[0] + record[1]), int(reason) if reason else None))
    return len(rows)


def _streamed_parse(path: str) -> int:
    from plugins.kyc.passport.invalid_list import READ_CHUNK, Counts, rows_of

    async def chunks():
        with open(path, "rb") as fh:
            while block := fh.read(READ_CHUNK):
                yield block

    async def run() -> int:
        counts = Counts()
        async for _batch in rows_of(chunks(), counts):
            pass
        return counts.rows

    return asyncio.run(run())


def _child(fn_name: str, path: str, out: Any) -> None:
    import plugins.kyc.passport.invalid_list  # noqa: F401 - importing is not the parse's memory

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    rows = globals()[fn_name](path)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put({"rows": rows, "seconds": seconds, "peak_mb": peak / 1024, "growth_mb": (peak - before) / 1024})


def parse_in_child(fn_name: str, path: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: its max RSS is this parse's
    queue = context.Queue()
    process = context.Process(target=_child, args=(fn_name, str(path), queue))
    process.start()
    result = queue.get()
    process.join()
    result["rows_per_s"] = result["rows"] / result["seconds"]
    return result


async def import_and_look_up(path: Path, args: argparse.Namespace, progress: Any) -> dict[str, Any]:
    from core.db.database import Database
    from core.db.embedded import embedded_server
    from core.platform import Platform
    from core.testing import create_database, deployment_text, drop_database, migrate_database
    from plugins.kyc.passport.invalid_list import READ_CHUNK, InvalidPassports

    server = embedded_server(DATA_DIR / "pg", cleanup_mode="stop")
    admin = server.get_uri("postgres")
    plugins = ["kyc", "kyc.passport"]
    progress("migrating a fresh database")
    dsn = await create_database(admin, DB_NAME)
    await migrate_database(dsn, plugins)
    platform = Platform.from_deployment("bench.toml", text=deployment_text(plugins))
    db = Database(dsn, min_size=2, max_size=args.clients + 2)
    await platform.start(db)
    try:
        invalid = platform.service(InvalidPassports)

        async def chunks():
            with path.open("rb") as fh:
                while block := fh.read(READ_CHUNK):
                    yield block

        progress("importing into PostgreSQL")
        started = time.perf_counter()
        report = await invalid.load(chunks(), source=str(path))
        import_s = time.perf_counter() - started
        assert report.status == "done", report
        size = await db.fetchval("SELECT pg_total_relation_size('kyc_invalid_passports')")
        rng = random.Random(3)
        numbers = [f"{rng.randrange(100, 10_000):04d}{rng.randrange(1_000_000):06d}" for _ in range(10_000)]

        async def phase(step) -> tuple[int, float]:
            done = 0
            deadline = time.perf_counter() + args.seconds

            async def client() -> None:
                nonlocal done
                while time.perf_counter() < deadline:
                    await step()
                    done += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(args.clients)))
            return done, time.perf_counter() - t0

        progress(f"lookups ({args.seconds:g} s, {args.clients} clients)")
        looked, looked_s = await phase(lambda: invalid.lookup(rng.choice(numbers)))
        progress(f"baseline: SELECT 1 ({args.seconds:g} s)")
        floor, floor_s = await phase(lambda: db.fetchval("SELECT 1"))
    finally:
        await platform.stop()
        await drop_database(admin, DB_NAME)
        server.cleanup()
    return {
        "import_rows": report.rows,
        "import_skipped": report.skipped,
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(report.rows / import_s),
        "table_mb": round(size / 2**20, 1),
        "table_bytes_per_row": round(size / max(report.rows, 1), 1),
        "lookups_per_s": round(looked / looked_s),
        "baseline_select1_per_s": round(floor / floor_s),
    }


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench kyc", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the generated list")
    parser.add_argument("--seconds", type=float, default=3, help="length of each lookup phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent lookups")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    def progress(message: str) -> None:
        if not args.json:
            print(f"  … {message}", file=sys.stderr, flush=True)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-kyc-") as tmp:
        path = Path(tmp) / "list_of_expired_passports.csv.bz2"
        progress(f"generating a list of {args.rows:,} rows")
        make_list(path, args.rows)
        compressed_mb = path.stat().st_size / 2**20
        progress("baseline parse: decompress everything, then csv")
        baseline = parse_in_child("_baseline_parse", path)
        progress("streamed parse: rows_of")
        streamed = parse_in_child("_streamed_parse", path)
        database = asyncio.run(import_and_look_up(path, args, progress))
    figures = {
        "rows": args.rows,
        "compressed_mb": round(compressed_mb, 1),
        "baseline_parse_rows_per_s": round(baseline["rows_per_s"]),
        "baseline_parse_peak_mb": round(baseline["peak_mb"], 1),
        "baseline_parse_growth_mb": round(baseline["growth_mb"], 1),
        "streamed_parse_rows_per_s": round(streamed["rows_per_s"]),
        "streamed_parse_peak_mb": round(streamed["peak_mb"], 1),
        "streamed_parse_growth_mb": round(streamed["growth_mb"], 1),
        **database,
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"\n  list of {args.rows:,} rows, {compressed_mb:.1f} MB compressed")
        print(f"  {'':32} {'rows/s':>12} {'peak RSS':>11} {'growth':>9}")
        for key, label in (("baseline", "baseline: decompress all + csv"), ("streamed", "streamed parse (rows_of)")):
            print(f"  {label:32} {figures[key + '_parse_rows_per_s']:>12,} {figures[key + '_parse_peak_mb']:>8.1f} MB "
                  f"{figures[key + '_parse_growth_mb']:>6.1f} MB")
        print(f"  {'import into PostgreSQL':32} {figures['import_rows_per_s']:>12,}   "
              f"({figures['import_s']} s, table {figures['table_mb']} MB, {figures['table_bytes_per_row']} B/row)")
        print(f"  {'lookups':32} {figures['lookups_per_s']:>12,}   (baseline SELECT 1: "
              f"{figures['baseline_select1_per_s']:,}/s)")
    return figures
