"""Settings of ``core.access`` (section ``[plugins."core.access"]`` of a deployment file)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AccessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Sensitive permissions need a second person's approval (maker-checker).
    maker_checker: bool = True
    #: A request nobody approved expires after this many hours.
    approval_ttl_hours: int = Field(72, ge=1, le=24 * 30)

    #: PII encryption keys: key id -> base64 of 32 random bytes (``kopilka pii keygen``).
    #: Give them by reference: ``pii_keys = { k2026 = { env = "KOPILKA_PII_K2026" } }``.
    #: Without keys, a development key is derived from ``web.secret_key``.
    pii_keys: dict[str, SecretStr] = Field(default_factory=dict)
    #: The key new ciphertexts use; the others only decrypt until ``kopilka pii rotate``.
    pii_active_key: str | None = None
    #: HMAC key of the blind indexes (base64, 32 bytes). Changing it needs ``kopilka pii reindex``.
    blind_index_key: SecretStr | None = None

    #: One-time codes: digits, lifetime and wrong guesses allowed per code.
    code_digits: int = Field(6, ge=4, le=10)
    code_ttl_s: int = Field(600, ge=30, le=86_400)
    code_attempts: int = Field(5, ge=1, le=20)
    #: Codes sent per hour to one user (or address) and from one IP address.
    codes_per_hour_per_user: int = Field(5, ge=1)
    codes_per_hour_per_ip: int = Field(30, ge=1)
    #: Code checks per 15 minutes from one IP address, across codes.
    code_checks_per_ip: int = Field(50, ge=1)
    #: Code checks per 15 minutes for one user, across all their codes.
    code_checks_per_user: int = Field(20, ge=1)
