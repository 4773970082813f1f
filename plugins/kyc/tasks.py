"""Background work of the kyc plugin.

* ``kyc.run_checks``: one round of a submission's checks; queued when it is sent (after the
  commit) and again, delayed, while a provider's answer is awaited.
* ``kyc.poll`` (cron, ``poll_cron``): a round for every submission whose checks are due, so a
  lost task, a pending answer or a provider's outage never leaves one waiting.
* ``kyc.retention`` (daily): erases the documents of accounts deleted ``retention_years`` ago.
* ``kyc.monitor(check)``: runs one check again for every verified customer (``kyc.passport``
  queues it after each new list of invalid passports); one that now fails goes back to review.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID


async def run_checks(platform: Any, submission_id: str) -> str | None:
    from plugins.kyc.service import KycService

    outcome = await platform.service(KycService).run_round(UUID(submission_id))
    return outcome.state.value if outcome else None


async def poll(platform: Any) -> dict[str, int]:
    from plugins.kyc.service import KycService

    return await platform.service(KycService).run_due()


async def retention(platform: Any) -> int:
    from plugins.kyc.service import KycService

    return await platform.service(KycService).erase_expired()


async def monitor(platform: Any, check: str) -> dict[str, int]:
    from plugins.kyc.service import KycService

    return await platform.service(KycService).monitor(check)
