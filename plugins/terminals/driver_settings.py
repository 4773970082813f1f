"""The settings every serial bill-validator driver takes (``[plugins."terminals.ccnet"]``...)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DriverSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Line speed; 9600 unless the device was set otherwise.
    baudrate: int = Field(9600, ge=1200, le=115200)
    #: How long to wait for the device's reply to one frame before trying once more.
    reply_timeout_ms: int = Field(300, ge=20, le=10000)
