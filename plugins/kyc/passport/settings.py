"""The ``[plugins."kyc.passport"]`` section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: Where the MVD has published the list (the address has moved before: it is a setting).
PRODUCTION_LIST_URL = "https://проверки.гувм.мвд.рф/upload/expired-passports/list_of_expired_passports.csv.bz2"
LIST_PATH = "/upload/expired-passports/list_of_expired_passports.csv.bz2"


class PassportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Look passports up in the MVD's list of invalid passports.
    invalid_list: bool = True
    #: The list's address; empty: the MVD's, or the sandbox emulator's with ``[platform] sandbox = true``.
    list_url: str | None = None
    #: When ``kyc.passport.import_list`` downloads the list (it skips an unchanged one).
    import_cron: str = "40 3 * * *"
    #: Seconds without data before a download counts as failed.
    timeout_s: float = Field(120, gt=0)
    #: A list older than this is still used, and reviewers see that it is stale.
    max_list_age_days: int = Field(7, ge=1)


def list_url_of(platform, settings: PassportSettings) -> str:
    from core.sandbox import provider_url

    if settings.list_url:
        return settings.list_url
    base = provider_url(platform, None, "mvd", "")
    return f"{base}{LIST_PATH}" if base else PRODUCTION_LIST_URL
