"""The ``[plugins.kyc]`` section."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentKind = Literal["itn", "passport", "snils"]


class KycSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Documents a customer must give (among those the enabled checks read; the rest are optional).
    required_documents: list[DocumentKind] = Field(default_factory=lambda: ["passport", "itn"])
    #: The youngest customer the platform verifies.
    min_age: int = Field(18, ge=14, le=100)
    #: Verify without a person when every check passed and nothing is flagged; otherwise a reviewer decides.
    auto_approve: bool = True
    #: Attempts per check (errors and polls of a pending answer) before a reviewer takes over.
    max_attempts: int = Field(12, ge=1, le=100)
    #: How long one call of a check may take before it counts as a provider error.
    check_timeout_s: float = Field(30, gt=0)
    #: When ``kyc.poll`` looks for checks to run again (pending answers, provider errors).
    poll_cron: str = "* * * * *"
    #: Submissions one customer may make per day.
    submissions_per_day: int = Field(5, ge=1)
    #: Years the documents of a deleted account are kept (115-FZ art. 7: five years), then erased.
    retention_years: int = Field(5, ge=0, le=50)
    #: Tell the holders of ``kyc.review`` (in-app) when a submission waits for them.
    notify_reviewers: bool = True
