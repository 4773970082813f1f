"""An emulator of the MVD's download of invalid passports: a small list, served the same way.

``GET /upload/expired-passports/list_of_expired_passports.csv.bz2`` answers the bzip2 CSV
(header ``PASSP_SERIES,PASSP_NUMBER,REASON``; a few legacy rows with Soviet-style series,
as the real list has), with an ETag and Last-Modified, and 304 to a request that already
has them. The control API: ``GET /_emulator`` (the list and modes), ``POST /_emulator/passports``
``{"series": "4510", "number": "123456", "reason": 4}`` adds one, ``POST /_emulator/modes``
``{"down": true}`` (503) or ``{"damaged": true}`` (the file cut in the middle).
"""

from __future__ import annotations

import bz2
import email.utils
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get, post

from plugins.kyc.passport.settings import LIST_PATH

#: Passports the emulated MVD lists as invalid: (series, number, reason code or None).
TEST_INVALID_PASSPORTS: tuple[tuple[str, str, int | None], ...] = (
    ("4505", "123456", 2),
    ("4510", "999999", 4),
    ("4002", "111111", 1),
    ("7701", "424242", None),
    ("6004", "000777", 5),
)
#: Rows the real list has and no modern passport matches.
LEGACY_ROWS = ("IV-ЖА,612345,1", "XI-ЯР,000987,1")


@dataclass
class MvdEmulator:
    passports: list[tuple[str, str, int | None]] = field(default_factory=lambda: list(TEST_INVALID_PASSPORTS))
    down: bool = False
    damaged: bool = False
    downloads: int = 0
    changed_at: float = field(default_factory=time.time)

    def reset(self) -> None:
        """Back to the start: the test data, no modes, nothing asked (the app keeps serving this object)."""
        self.__dict__.update(type(self)().__dict__)

    def csv(self) -> bytes:
        lines = ["PASSP_SERIES,PASSP_NUMBER,REASON"]
        lines += [f"{s},{n},{'' if r is None else r}" for s, n, r in self.passports]
        lines += list(LEGACY_ROWS)
        return ("\n".join(lines) + "\n").encode()

    def body(self) -> bytes:
        data = bz2.compress(self.csv())
        return data[: len(data) // 2] if self.damaged else data

    def add(self, series: str, number: str, reason: int | None = None) -> None:
        self.passports.append((series, number, reason))
        self.changed_at = time.time()

    def app(self) -> Litestar:
        emulator = self

        @get(LIST_PATH, media_type="application/x-bzip2")
        async def download(request: Request[Any, Any, Any]) -> Response[bytes]:
            if emulator.down:
                return Response(b"Service Unavailable", status_code=503, media_type=MediaType.TEXT)
            body = emulator.body()
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            modified = email.utils.formatdate(emulator.changed_at, usegmt=True)
            headers = {"ETag": etag, "Last-Modified": modified}
            if request.headers.get("if-none-match") == etag:
                return Response(b"", status_code=304, headers=headers)
            emulator.downloads += 1
            return Response(body, headers=headers, media_type="application/x-bzip2")

        @get("/_emulator")
        async def control() -> dict[str, Any]:
            return {"passports": [{"series": s, "number": n, "reason": r} for s, n, r in emulator.passports],
                    "down": emulator.down, "damaged": emulator.damaged, "downloads": emulator.downloads}

        @post("/_emulator/passports", status_code=201)
        async def add(request: Request[Any, Any, Any]) -> dict[str, Any]:
            data = await request.json()
            emulator.add(str(data["series"]), str(data["number"]), data.get("reason"))
            return {"passports": len(emulator.passports)}

        @post("/_emulator/modes")
        async def modes(request: Request[Any, Any, Any]) -> dict[str, Any]:
            data = await request.json()
            emulator.down = bool(data.get("down", emulator.down))
            emulator.damaged = bool(data.get("damaged", emulator.damaged))
            return {"down": emulator.down, "damaged": emulator.damaged}

        return Litestar([download, control, add, modes], openapi_config=None)
