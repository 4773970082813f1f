"""The MVD's list of invalid Russian passports: streamed in, swapped in whole, looked up by number.

The list (``list_of_expired_passports.csv.bz2``) is a bzip2 CSV of a hundred million rows
and more: a header ``PASSP_SERIES,PASSP_NUMBER`` then ``series,number`` per invalid passport,
sometimes with a third column, a reason code. It is never held in memory: the download is
read in chunks, decompressed a bounded piece at a time (several concatenated bzip2 streams
are fine), split into lines, and copied into a fresh table in batches. Only when the whole
file has arrived is the new table indexed and swapped in for the old one, in one short
transaction; a failed download leaves the old list as it was. A download whose ETag or
Last-Modified says nothing changed is not downloaded again.

Rows that cannot be a modern passport (a series that is not four digits, a number that is
not six) are counted as skipped: the old Soviet-style series never match what customers type.
"""

from __future__ import annotations

import bz2
import logging
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.kyc.passport")

TABLE = "kyc_invalid_passports"
LOAD_TABLE = "kyc_invalid_passports_load"
INDEX = "kyc_invalid_passports_passport"
#: Decompressed bytes taken from the decompressor at a time (bounds memory whatever the ratio).
OUT_CHUNK = 1 << 18
READ_CHUNK = 1 << 16
BATCH_ROWS = 10_000
LOCK = "kyc.passport.import"
#: What the MVD's reason codes mean, for reviewers.
REASONS = {
    1: "ИСТЕК СРОК ДЕЙСТВИЯ",
    2: "ЗАМЕНЕН НА НОВЫЙ",
    3: "ВЫДАН С НАРУШЕНИЕМ",
    4: "ЧИСЛИТСЯ В РОЗЫСКЕ",
    5: "ИЗЪЯТ, УНИЧТОЖЕН",
    6: "В СВЯЗИ СО СМЕРТЬЮ ВЛАДЕЛЬЦА",
    8: "ТЕХНИЧЕСКИЙ БРАК",
}


class ListError(Exception):
    """The download is not the list (not bzip2, cut short, an HTTP error)."""


class Bz2Stream:
    """Decompresses chunk by chunk, at most ``OUT_CHUNK`` bytes at a time, across concatenated streams."""

    def __init__(self) -> None:
        self._decompressor = bz2.BZ2Decompressor()
        self._fed = False
        self.compressed_bytes = 0

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.compressed_bytes == 0 and len(data) >= 3 and not data.startswith(b"BZh"):
            raise ListError("the download is not bzip2 (it should be list_of_expired_passports.csv.bz2)")
        self.compressed_bytes += len(data)
        while True:
            if self._decompressor.eof:  # one stream ended: what follows is the next one
                data = self._decompressor.unused_data + data
                self._decompressor = bz2.BZ2Decompressor()
                self._fed = False
                if not data:
                    return
            self._fed = self._fed or bool(data)
            try:
                out = self._decompressor.decompress(data, max_length=OUT_CHUNK)
            except OSError as exc:
                raise ListError(f"the bzip2 data is damaged: {exc}") from None
            data = b""
            if out:
                yield out
            if not self._decompressor.eof and self._decompressor.needs_input:
                return

    def finish(self) -> None:
        if self._fed and not self._decompressor.eof:
            raise ListError("the download ended in the middle of the bzip2 data")
        if self.compressed_bytes == 0:
            raise ListError("the download is empty")


@dataclass
class Counts:
    rows: int = 0
    skipped: int = 0


_COMMA = ord(",")


def parse_line(line: bytes) -> tuple[int, int | None] | None:
    """``b"4510,123456"`` -> ``(4510123456, None)``; the header and anything else -> None."""
    line = line.rstrip(b"\r")
    # The fast path: SSSS,NNNNNN[,R] as the list writes it (a hundred million times).
    if len(line) >= 11 and line[4] == _COMMA and (len(line) == 11 or line[11] == _COMMA):
        digits = line[:4] + line[5:11]
        if digits.isdigit():
            code = line[12:]
            return int(digits), (int(code) if code.isdigit() and len(code) <= 4 else None)
    parts = line.strip().split(b",")
    if len(parts) < 2:
        return None
    series, number = parts[0].strip().strip(b'"'), parts[1].strip().strip(b'"')
    if len(series) != 4 or len(number) != 6 or not series.isdigit() or not number.isdigit():
        return None
    reason = None
    if len(parts) > 2:
        code = parts[2].strip().strip(b'"')
        if code.isdigit() and len(code) <= 4:
            reason = int(code)
    return int(series + number), reason


async def rows_of(chunks: AsyncIterable[bytes], counts: Counts) -> AsyncIterator[list[tuple[int, int | None]]]:
    """Batches of ``(passport, reason)`` from the compressed download, memory bounded."""
    stream = Bz2Stream()
    tail = b""
    batch: list[tuple[int, int | None]] = []
    first_line = True
    async for chunk in chunks:
        for piece in stream.feed(chunk):
            lines = (tail + piece).split(b"\n")
            tail = lines.pop()
            for line in lines:
                row = parse_line(line)
                if row is None:
                    if not first_line and line.strip():
                        counts.skipped += 1
                else:
                    batch.append(row)
                first_line = False
            if len(batch) >= BATCH_ROWS:
                counts.rows += len(batch)
                yield batch
                batch = []
    stream.finish()
    if tail.strip():
        row = parse_line(tail)
        if row is None:
            counts.skipped += 0 if first_line else 1
        else:
            batch.append(row)
    if batch:
        counts.rows += len(batch)
        yield batch


@dataclass(frozen=True)
class ImportReport:
    status: str  # done, unchanged, failed, busy
    rows: int = 0
    skipped: int = 0
    bytes: int = 0
    error: str = ""
    import_id: int | None = None


@dataclass(frozen=True)
class ListState:
    loaded: bool
    imported_at: Any = None
    rows: int = 0


class InvalidPassports:
    """The list in the database: look up a passport, and replace the whole list from a download."""

    def __init__(self, platform: Platform, *, timeout_s: float = 60, transport: httpx.AsyncBaseTransport | None = None):
        self.platform = platform
        self.timeout_s = timeout_s
        self.transport = transport

    @property
    def db(self):
        return self.platform.db

    async def lookup(self, series_and_number: str) -> tuple[bool, int | None]:
        """(listed, reason code) for a passport's ten digits."""
        row = await self.db.fetchrow(f"SELECT reason FROM {TABLE} WHERE passport = $1 LIMIT 1", int(series_and_number))
        return (row is not None, row["reason"] if row else None)

    async def state(self) -> ListState:
        row = await self.db.fetchrow(
            """SELECT finished_at, rows FROM kyc_passport_list_imports WHERE status = 'done'
               ORDER BY finished_at DESC LIMIT 1"""
        )
        return ListState(True, row["finished_at"], row["rows"]) if row else ListState(False)

    async def imports(self, limit: int = 20) -> list[Any]:
        return await self.db.fetch("SELECT * FROM kyc_passport_list_imports ORDER BY id DESC LIMIT $1", limit)

    # -- importing -------------------------------------------------------------------------------------

    async def download(self, url: str) -> ImportReport:
        """Fetch the list from ``url`` (unless it has not changed) and swap it in."""
        async with self.db.connection() as conn:
            if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", LOCK):
                return ImportReport("busy", error="another import is running")
            try:
                return await self._download(conn, url)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", LOCK)

    async def _download(self, conn: Any, url: str) -> ImportReport:
        last = await conn.fetchrow(
            """SELECT etag, last_modified FROM kyc_passport_list_imports WHERE status = 'done'
               ORDER BY finished_at DESC LIMIT 1"""
        )
        headers = {}
        if last is not None and last["etag"]:
            headers["If-None-Match"] = last["etag"]
        if last is not None and last["last_modified"]:
            headers["If-Modified-Since"] = last["last_modified"]
        import_id = await self._start(conn, url)
        timeout = httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 30))
        try:
            async with httpx.AsyncClient(timeout=timeout, transport=self.transport, follow_redirects=True) as http:
                async with http.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        return await self._finish(conn, import_id, "unchanged")
                    if response.status_code != 200:
                        raise ListError(f"HTTP {response.status_code} from {url}")
                    meta = {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
                    return await self._load(conn, import_id, response.aiter_bytes(READ_CHUNK), meta)
        except (ListError, httpx.HTTPError) as exc:
            message = str(exc) or type(exc).__name__
            log.warning("the invalid-passports list was not imported: %s", message)
            return await self._fail(conn, import_id, message)

    async def load(self, chunks: AsyncIterable[bytes], source: str) -> ImportReport:
        """Swap in the list from compressed chunks (a file, the demo's emulator)."""
        async with self.db.connection() as conn:
            import_id = await self._start(conn, source)
            try:
                return await self._load(conn, import_id, chunks, {})
            except ListError as exc:
                return await self._fail(conn, import_id, str(exc))

    async def _start(self, conn: Any, source: str) -> int:
        return await conn.fetchval(
            "INSERT INTO kyc_passport_list_imports (source, status) VALUES ($1, 'running') RETURNING id", source[:1000]
        )

    async def _load(self, conn: Any, import_id: int, chunks: AsyncIterable[bytes], meta: dict[str, Any]) -> ImportReport:
        counts = Counts()
        await conn.execute(f"DROP TABLE IF EXISTS {LOAD_TABLE}")
        await conn.execute(f"CREATE TABLE {LOAD_TABLE} (passport bigint NOT NULL, reason smallint)")
        counter = _Counted(chunks)
        try:
            async for batch in rows_of(counter, counts):
                await conn.copy_records_to_table(LOAD_TABLE, records=batch, columns=["passport", "reason"])
        except BaseException:
            await conn.execute(f"DROP TABLE IF EXISTS {LOAD_TABLE}")
            raise
        # Indexing a hundred million rows takes longer than a web request may: lift the limit here only.
        await conn.execute("SET statement_timeout = 0")
        try:
            await conn.execute(f"CREATE INDEX {INDEX}_new ON {LOAD_TABLE} (passport)")
            async with conn.transaction():
                await conn.execute(f"DROP TABLE {TABLE}")
                await conn.execute(f"ALTER TABLE {LOAD_TABLE} RENAME TO {TABLE}")
                await conn.execute(f"ALTER INDEX {INDEX}_new RENAME TO {INDEX}")
                await conn.execute(
                    """UPDATE kyc_passport_list_imports SET status = 'done', finished_at = clock_timestamp(),
                              rows = $2, skipped = $3, bytes = $4, etag = $5, last_modified = $6 WHERE id = $1""",
                    import_id, counts.rows, counts.skipped, counter.bytes,
                    (meta.get("etag") or None), (meta.get("last_modified") or None),
                )
        finally:
            await conn.execute("RESET statement_timeout")
        await conn.execute(f"ANALYZE {TABLE}")
        log.info("invalid-passports list imported: %s rows, %s skipped", counts.rows, counts.skipped)
        return ImportReport("done", counts.rows, counts.skipped, counter.bytes, import_id=import_id)

    async def _finish(self, conn: Any, import_id: int, status: str) -> ImportReport:
        await conn.execute(
            "UPDATE kyc_passport_list_imports SET status = $2, finished_at = clock_timestamp() WHERE id = $1",
            import_id, status,
        )
        return ImportReport(status, import_id=import_id)

    async def _fail(self, conn: Any, import_id: int, message: str) -> ImportReport:
        await conn.execute(
            """UPDATE kyc_passport_list_imports SET status = 'failed', finished_at = clock_timestamp(), error = $2
               WHERE id = $1""",
            import_id, message[:2000],
        )
        return ImportReport("failed", error=message, import_id=import_id)


class _Counted:
    """Passes chunks through, counting their bytes."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.bytes = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.bytes += len(chunk)
            yield chunk
