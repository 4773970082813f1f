"""The MVD's list of invalid passports: streamed, memory-bounded, swapped in whole, skipped when unchanged."""

from __future__ import annotations

import bz2
import tracemalloc

import httpx
import pytest

from plugins.kyc.passport import invalid_list
from plugins.kyc.passport.invalid_list import Counts, InvalidPassports, ListError, rows_of


async def chunks_of(data: bytes, size: int = 4096):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def parse(data: bytes, size: int = 4096) -> tuple[list[tuple[int, int | None]], Counts]:
    counts = Counts()
    rows = [row async for batch in rows_of(chunks_of(data, size), counts) for row in batch]
    return rows, counts


async def test_rows_with_and_without_reasons_and_legacy_rows_skipped():
    text = 'PASSP_SERIES,PASSP_NUMBER\r\n4510,123456\r\n"0101","000001",4\r\nIV-ЖА,612345\r\n45,1\r\n9999,999999'
    rows, counts = await parse(bz2.compress(text.encode()), size=7)
    assert rows == [(4510123456, None), (101000001, 4), (9999999999, None)]
    assert counts.rows == 3 and counts.skipped == 2


async def test_concatenated_bzip2_streams_are_one_list():
    # Parallel compressors (pbzip2) write several streams one after another.
    data = bz2.compress(b"PASSP_SERIES,PASSP_NUMBER\n4510,000001\n") + bz2.compress(b"4510,000002\n")
    rows, _counts = await parse(data, size=5)
    assert [r[0] for r in rows] == [4510000001, 4510000002]


@pytest.mark.parametrize("damage", ["cut", "garbage", "not-bzip2", "empty"])
async def test_a_damaged_download_is_refused(damage):
    good = bz2.compress(b"PASSP_SERIES,PASSP_NUMBER\n" + b"4510,123456\n" * 1000)
    data = {"cut": good[: len(good) // 2], "garbage": good[:20] + b"x" * 50 + good[70:],
            "not-bzip2": b"PASSP_SERIES,PASSP_NUMBER\n4510,123456\n", "empty": b""}[damage]
    with pytest.raises(ListError):
        await parse(data)


async def peak_parsing(rows: int) -> int:
    body = b"PASSP_SERIES,PASSP_NUMBER\n" + b"".join(b"%04d,%06d\n" % (i % 10000, i) for i in range(rows))
    data = bz2.compress(body)
    del body
    tracemalloc.start()
    try:
        counts = Counts()
        async for _batch in rows_of(chunks_of(data, 65536), counts):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        assert counts.rows == rows


async def test_parsing_holds_a_bounded_piece_of_the_list_whatever_its_size(monkeypatch):
    # Small pieces and batches, so a small list already spans many of them (tracing memory is slow).
    monkeypatch.setattr(invalid_list, "OUT_CHUNK", 16 * 1024)
    monkeypatch.setattr(invalid_list, "BATCH_ROWS", 1000)
    small, large = await peak_parsing(20_000), await peak_parsing(120_000)  # 240 KB and 1.4 MB decompressed
    assert large < 600 * 1024 and large < small * 1.5, f"{small / 1024:.0f} KB, then {large / 1024:.0f} KB"


async def test_download_swaps_the_list_in_and_skips_an_unchanged_one(world):
    invalid = world.platform.service(InvalidPassports)
    assert await invalid.lookup("4505123456") == (True, 2)
    assert await invalid.lookup("4020654321") == (False, None)
    state = await invalid.state()
    assert state.loaded and state.rows == 5
    again = await invalid.download(world.sandbox.list_url)
    assert again.status == "unchanged" and world.sandbox.mvd.downloads == 1
    world.sandbox.mvd.add("4020", "654321", 4)
    fresh = await invalid.download(world.sandbox.list_url)
    assert fresh.status == "done" and fresh.rows == 6 and fresh.skipped == 2
    assert await invalid.lookup("4020654321") == (True, 4)


async def test_a_failed_download_keeps_the_old_list(world):
    invalid = world.platform.service(InvalidPassports)
    world.sandbox.mvd.add("4020", "654321", 4)  # changed, so it is downloaded
    world.sandbox.mvd.damaged = True
    report = await invalid.download(world.sandbox.list_url)
    assert report.status == "failed" and "bzip2" in report.error
    world.sandbox.mvd.damaged, world.sandbox.mvd.down = False, True
    assert (await invalid.download(world.sandbox.list_url)).error == f"HTTP 503 from {world.sandbox.list_url}"
    assert await invalid.lookup("4505123456") == (True, 2)   # the old list still answers
    assert await invalid.lookup("4020654321") == (False, None)
    assert not await world.platform.db.fetchval("SELECT to_regclass('kyc_invalid_passports_load') IS NOT NULL")
    statuses = [r["status"] for r in await invalid.imports()]
    assert statuses == ["failed", "failed", "done"]


async def test_the_import_task_and_its_admin_page(world, client_as, jobs):
    admin = await client_as("admin.access", "kyc.passport.manage")
    page = await admin.get("/admin/kyc/passport-list")
    assert page.status_code == 200 and "list_of_expired_passports" in page.text
    queued = await admin.post("/api/v1/admin/kyc/passport-list/import")
    assert queued.status_code == 202
    assert (await jobs.run_now("kyc.passport.import_list"))["status"] == "unchanged"
    listed = (await admin.get("/api/v1/admin/kyc/passport-list")).json()
    assert listed["loaded"] and [i["status"] for i in listed["imports"]][:2] == ["unchanged", "done"]


async def test_a_download_that_hangs_fails_cleanly(world):
    class Stalled(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            raise httpx.ReadTimeout("no data", request=request)

    invalid = InvalidPassports(world.platform, timeout_s=0.1, transport=Stalled())
    report = await invalid.download("http://mvd.invalid/list.csv.bz2")
    assert report.status == "failed" and "no data" in report.error
