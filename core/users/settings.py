"""Settings of ``core.users`` (section ``[plugins."core.users"]`` of a deployment file)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UsersSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Visitors may register themselves; otherwise only admins create accounts.
    registration_open: bool = True
    #: What people register and sign in with.
    login_kinds: list[Literal["email", "phone"]] = Field(default_factory=lambda: ["email", "phone"])

    #: A session ends after this many minutes without a request ...
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    #: ... and this many hours after sign-in, whatever happens.
    session_max_hours: int = Field(12, ge=1, le=24 * 30)
    #: API tokens expire after this many days unless the user picks fewer.
    api_token_max_days: int = Field(365, ge=1, le=3650)

    #: Failed sign-ins allowed per account and per IP address within ``login_window_minutes``.
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_ip: int = Field(30, ge=1)
    login_window_minutes: int = Field(15, ge=1)
    #: Consecutive failures that lock the account, and for how long.
    lockout_after: int = Field(10, ge=2)
    lockout_minutes: int = Field(30, ge=1)
    #: Registrations per hour from one IP address.
    registrations_per_ip_hour: int = Field(10, ge=1)

    #: Passwords: length bounds (NIST 800-63B / ASVS: long, no composition rules).
    password_min_length: int = Field(12, ge=8, le=64)
    password_max_length: int = Field(128, ge=64, le=1024)
    #: argon2id cost (RFC 9106 second recommendation by default).
    argon2_time_cost: int = Field(3, ge=1, le=10)
    argon2_memory_kib: int = Field(65536, ge=8192, le=1048576)
    argon2_parallelism: int = Field(4, ge=1, le=16)
