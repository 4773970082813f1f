"""The ``[plugins.terminals]`` section of a deployment file."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class TerminalsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Currency of new terminals; empty: the platform's currency.
    currency: str = ""
    #: Notes a new terminal takes unless the admin chooses others.
    denominations: list[Decimal] = Field(default_factory=lambda: [Decimal(n) for n in
                                                                  ("50", "100", "200", "500", "1000", "2000", "5000")])
    #: How often the runner asks each device for its status.
    poll_interval_ms: int = Field(200, ge=10, le=5000)
    #: How often the runner checks whether a customer is at the terminal (enable or disable the device).
    state_check_ms: int = Field(1000, ge=10, le=60000)
    #: A worker holds a terminal's line for this long without renewing; then another worker may take it.
    lease_s: int = Field(30, ge=2, le=3600)
    #: How often a worker renews its leases (and the terminal's "last seen").
    heartbeat_s: int = Field(10, ge=1, le=600)
    #: How often the runner looks for terminals to open (added, enabled, changed) or close.
    supervise_ms: int = Field(5000, ge=10, le=600000)
    #: Pause after a failed line before opening it again; doubles up to the maximum.
    backoff_initial_ms: int = Field(1000, ge=10)
    backoff_max_ms: int = Field(60000, ge=10)
    #: A deposit code shown to a customer is valid this long.
    deposit_code_ttl_s: int = Field(600, ge=30, le=86400)
    #: A kiosk session with no note for this long ends (the device stops taking notes).
    session_idle_s: int = Field(120, ge=10, le=3600)
    #: A note stacked this long after its session ended still goes to that session's customer
    #: (it was in the validator when the session ended).
    session_grace_s: int = Field(30, ge=0, le=600)
    #: Wrong deposit codes a terminal may see in ten minutes before it refuses to check more.
    code_attempts: int = Field(10, ge=1, le=1000)
    #: A terminal nobody has heard from for this long is shown offline (the watchdog records it).
    offline_after_s: int = Field(60, ge=5)
    #: The watchdog's schedule.
    watchdog_cron: str = "* * * * *"
