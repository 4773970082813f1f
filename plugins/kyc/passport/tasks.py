"""``kyc.passport.import_list``: download the MVD's list of invalid passports, swap it in, recheck the verified."""

from __future__ import annotations

from typing import Any


async def import_list(platform: Any) -> dict[str, Any]:
    from plugins.kyc.passport.invalid_list import InvalidPassports
    from plugins.kyc.passport.settings import PassportSettings, list_url_of

    settings: PassportSettings = platform.settings("kyc.passport")
    report = await platform.service(InvalidPassports).download(list_url_of(platform, settings))
    if report.status == "done":  # a passport may have been reported invalid since its owner was verified
        from core.jobs.runtime import Jobs

        await platform.service(Jobs).kick("kyc.monitor", check="passport")
    return {"status": report.status, "rows": report.rows, "skipped": report.skipped, "error": report.error}
