"""``[plugins.meetings]``: currency, notice calendar, signing, the video room."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class MeetingsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Claims are in this currency (1 ruble = 1 vote; weights are kept in kopecks).
    currency: str = "RUB"
    #: Non-working days besides Saturdays and Sundays, for the 5-working-day notice (the production
    #: calendar of the year: New Year holidays, 23 February, 8 March, 1 and 9 May, 12 June, 4 November...).
    holidays: list[dt.date] = Field(default_factory=list)
    #: How participants sign the protocol: names of registered signature methods, the first is offered.
    signature_methods: list[str] = Field(default_factory=lambda: ["code"])
    #: How often due meetings are opened and closed (absentee deadlines, in-person end times).
    close_cron: str = "* * * * *"
    #: The server relays media for rooms up to this size (aiortc, see README: measured capacity).
    room_max_participants: int = Field(12, ge=2, le=150)
    #: STUN/TURN servers given to browsers and to the server's peer connections. Empty: host candidates
    #: only (a LAN or loopback); a public deployment needs at least a STUN server and usually a TURN relay.
    ice_servers: list[str] = Field(default_factory=list)
