"""Demo data: the emulator's list of invalid passports, loaded in-process (the server is not up yet)."""

from __future__ import annotations

from plugins.kyc.passport.emulator import MvdEmulator
from plugins.kyc.passport.invalid_list import InvalidPassports


async def load(platform, settings, progress) -> None:
    if not settings.invalid_list:
        return
    invalid = platform.service(InvalidPassports)
    if (await invalid.state()).loaded:
        return

    async def chunks():
        yield MvdEmulator().body()

    report = await invalid.load(chunks(), source="demo: the sandbox emulator's list")
    progress(f"invalid passports list: {report.rows} rows")
