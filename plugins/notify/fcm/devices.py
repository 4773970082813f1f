"""PushDevices: the FCM registration tokens users register, and what each delivery reached.

A token names one app install; it moves to whoever registers it last (a phone changes
hands, a user signs in as someone else). FCM's ``UNREGISTERED`` answer removes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from core.platform import Platform

PLATFORMS = ("android", "ios", "web")
#: Devices one user may have; registering another drops the oldest.
MAX_DEVICES_PER_USER = 20


@dataclass(frozen=True)
class Device:
    id: int
    user_id: UUID
    token: str
    platform: str
    created_at: dt.datetime
    last_sent_at: dt.datetime | None

    def public(self) -> dict[str, object]:
        """What the API shows: never the whole token (it addresses the device)."""
        return {"id": self.id, "platform": self.platform, "token_end": self.token[-6:],
                "created_at": self.created_at.isoformat(),
                "last_sent_at": self.last_sent_at.isoformat() if self.last_sent_at else None}


class PushDevices:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def db(self):
        return self.platform.db

    async def register(self, user_id: UUID, token: str, platform: str) -> Device:
        async with self.db.transaction():
            row = await self.db.fetchrow(
                """INSERT INTO notify_fcm_devices (user_id, token, platform) VALUES ($1, $2, $3)
                   ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
                          created_at = CASE WHEN notify_fcm_devices.user_id = excluded.user_id
                                            THEN notify_fcm_devices.created_at ELSE clock_timestamp() END
                   RETURNING *""",
                user_id, token, platform,
            )
            await self.db.execute(
                """DELETE FROM notify_fcm_devices WHERE user_id = $1 AND id NOT IN
                     (SELECT id FROM notify_fcm_devices WHERE user_id = $1 ORDER BY id DESC LIMIT $2)""",
                user_id, MAX_DEVICES_PER_USER,
            )
        return Device(**dict(row))

    async def of_user(self, user_id: UUID) -> list[Device]:
        rows = await self.db.fetch(
            """SELECT d.* FROM notify_fcm_devices d JOIN users_users u ON u.id = d.user_id
               WHERE d.user_id = $1 AND u.status <> 'deleted' ORDER BY d.id""",
            user_id,
        )
        return [Device(**dict(r)) for r in rows]

    async def unregister(self, user_id: UUID, *, device_id: int | None = None, token: str | None = None) -> bool:
        """Forget one of the user's devices (by id or token); False when the user has no such device."""
        found = await self.db.fetchval(
            """DELETE FROM notify_fcm_devices WHERE user_id = $1
                 AND (($2::bigint IS NOT NULL AND id = $2) OR ($3::varchar IS NOT NULL AND token = $3))
               RETURNING id""",
            user_id, device_id, token,
        )
        return found is not None

    async def drop(self, device_id: int) -> None:
        """FCM said the token is no longer valid."""
        await self.db.execute("DELETE FROM notify_fcm_devices WHERE id = $1", device_id)

    async def reached(self, delivery_id: UUID) -> dict[int, str]:
        """Device id -> FCM message name, for the devices this delivery already reached."""
        rows = await self.db.fetch(
            "SELECT device_id, message_name FROM notify_fcm_sends WHERE delivery_id = $1", delivery_id
        )
        return {r["device_id"]: r["message_name"] for r in rows}

    async def record_sent(self, delivery_id: UUID, device_id: int, message_name: str) -> None:
        async with self.db.transaction():
            await self.db.execute(
                """INSERT INTO notify_fcm_sends (delivery_id, device_id, message_name) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING""",
                delivery_id, device_id, message_name,
            )
            await self.db.execute(
                "UPDATE notify_fcm_devices SET last_sent_at = clock_timestamp() WHERE id = $1", device_id
            )

    async def forget_sends_before(self, moment: dt.datetime) -> int:
        """Delete the per-device send records older than ``moment`` (their deliveries are long over)."""
        result = await self.db.execute("DELETE FROM notify_fcm_sends WHERE sent_at < $1", moment)
        return int(result.split()[-1])
