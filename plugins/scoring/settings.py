"""The ``[plugins.scoring]`` section of a deployment file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from plugins.scoring.policy import DecisionPolicy


class ScoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Currency of the loan amounts staff type; empty: the platform's currency.
    currency: str = Field("", pattern=r"^([A-Z]{3})?$")
    #: A report younger than this many days is reused for another inquiry about the same
    #: person (same provider, report type and, for providers whose answer depends on it, the
    #: same loan) instead of paying the bureau again. 0 turns the cache off; a provider's
    #: ``policy.providers.<name>.cache_days`` overrides it.
    cache_days: float = Field(3, ge=0)
    #: How often the polling task runs.
    poll_cron: str = "* * * * *"
    #: The first poll of a PENDING inquiry comes this long after its answer; later ones back off
    #: (doubling) up to ``max_poll_interval_s``.
    first_poll_after_s: int = Field(15, ge=0)
    max_poll_interval_s: int = Field(600, ge=1)
    #: A PENDING inquiry still unanswered after this long is closed as a (retryable) error.
    give_up_after_hours: float = Field(24, gt=0)
    #: An inquiry whose call never came back (the process stopped mid-call) is asked again after this.
    stale_call_after_s: int = Field(300, ge=1)
    #: Inquiries one polling run handles, and how many of them at once.
    poll_batch: int = Field(100, ge=1)
    poll_concurrency: int = Field(8, ge=1)
    #: Asking again with the request id of an inquiry whose last answer was a retryable error
    #: (a timeout, an outage) calls the provider again; False returns the error as it is.
    retry_errors: bool = True
    policy: DecisionPolicy = Field(default_factory=DecisionPolicy)
