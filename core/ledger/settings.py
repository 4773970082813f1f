"""Settings of the ``core.ledger`` plugin (section ``[plugins."core.ledger"]``)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

LEDGER_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


class LedgerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Writer tasks of the group commit: one prepares a batch while another commits.
    writers: int = Field(2, ge=1, le=16)
    #: Most requests in one batch (one transaction); TigerBeetle's limit, 8190, is the ceiling.
    batch_max: int = Field(8190, ge=1, le=8190)
    #: Wait this long for company when a writer finds a single request queued (0: never wait).
    linger_ms: float = Field(0, ge=0, le=50)
    #: Apply a large batch before its locks, on top of the one still committing (checked under
    #: the locks; a miss applies it again the plain way). Off: every batch locks first.
    speculate: bool = True
    #: Assets that are not ISO 4217 currencies, with their scale: ``{ SHARE = 0, GOLD_G = 3 }``.
    assets: dict[str, int] = Field(default_factory=dict)
    #: How often pending transfers past their timeout are expired.
    expire_cron: str = "* * * * *"
    #: How often committed transfers are sealed into the hash chain.
    seal_cron: str = "* * * * *"
    #: Most transfers in one sealed block.
    seal_block_max: int = Field(100_000, ge=1)

    @field_validator("assets")
    @classmethod
    def _assets(cls, value: dict[str, int]) -> dict[str, int]:
        for code, scale in value.items():
            if not LEDGER_CODE.match(code):
                raise ValueError(
                    f"asset code {code!r} must be upper-case letters, digits and _ (2-32 characters)"
                )
            if not 0 <= scale <= 18:
                raise ValueError(f"asset {code}: scale must be between 0 and 18")
        return value
