"""Settings of ``core.notifications`` (section ``[plugins."core.notifications"]``)."""

from pydantic import BaseModel, ConfigDict, Field


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A message not delivered within this many hours is given up (codes expire sooner).
    delivery_ttl_hours: int = Field(24, ge=1, le=24 * 14)
    #: Attempts per message before it is given up.
    max_attempts: int = Field(8, ge=1, le=50)
    #: How long one channel call may take.
    send_timeout_s: float = Field(15, gt=0, le=120)
    #: Address kinds tried, in order, when a notification names none: the first the user has.
    default_via: list[str] = Field(default_factory=lambda: ["email", "phone"])
