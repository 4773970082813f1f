"""NotificationService: in-app notifications, and messages through the registered channels.

``await platform.service(NotificationService).notify(user_id, "users.blocked", {"reason": ...})``
stores an in-app notification (rendered in the reader's language when shown) and sends
the message to the user's first address of the kinds in ``via``. ``send(address, kind,
params)`` sends to one address without an in-app copy (confirmation codes).

Delivery happens after the causing transaction commits. Every message is a row in
``notifications_deliveries`` first, its rendered text encrypted, so a crash or a channel
that is down loses nothing: ``notifications.deliver_due`` retries with backoff until the
message expires, then the text is wiped. Channels receive the delivery id as an
idempotency key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from core.access.inputs import moment_in_utc
from core.contracts.notifications import (
    Address,
    DeliveryResult,
    DeliveryStatus,
    NotificationChannel,
    OutgoingMessage,
    Recipient,
)
from core.notifications.rendering import MessageRenderer, Rendered
from core.web import i18n

if TYPE_CHECKING:
    from core.notifications.settings import NotificationSettings
    from core.platform import Platform

log = logging.getLogger(__name__)

PAYLOAD_CONTEXT = "notifications_deliveries.payload_enc"
#: A delivery claimed longer ago than this was interrupted (the process died mid-send).
STALE_SENDING = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Notification:
    id: UUID
    user_id: UUID
    kind: str
    params: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None
    subject: str = ""
    text: str = ""

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class Sent:
    """What ``notify`` did: the in-app notification (if any) and the deliveries queued."""

    notification_id: UUID | None
    delivery_ids: tuple[UUID, ...]


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class NotificationService:
    def __init__(self, platform: Platform, settings: NotificationSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.renderer: MessageRenderer | None = None
        #: How long handing a one-time code to its channel usually takes in this process (a moving
        #: average). A decoy code for an unknown login waits as long, so the answer's timing does
        #: not tell whether an account exists.
        self.typical_code_delivery_s = 0.0

    async def start(self) -> None:
        dirs = [Path(d) for _p, d in self.platform.plugins.collect("template_dirs")]
        self.renderer = MessageRenderer(dirs, self.platform.core.platform.name)
        i18n.install_platform_catalogs(self.platform)

    @property
    def db(self):
        return self.platform.db

    @property
    def channels(self) -> list[NotificationChannel]:
        registry = self.platform.registries.get("notification_channels")
        return list(registry) if registry is not None else []

    def channels_for(self, address_kind: str) -> list[NotificationChannel]:
        return [c for c in self.channels if address_kind in c.address_kinds]

    def _cipher(self):
        from core.access.pii import PiiCipher

        return self.platform.service(PiiCipher)

    async def recipient(self, user_id: UUID) -> Recipient | None:
        from core.users.service import Users

        if not self.platform.has_service(Users):
            return None
        return await self.platform.service(Users).recipient(user_id)

    def render(
        self, kind: str, params: Mapping[str, Any], locale: str | None, recipient: Any = None
    ) -> Rendered:
        assert self.renderer is not None, "NotificationService is not started"
        return self.renderer.render(kind, params, locale, recipient)

    # -- sending ------------------------------------------------------------------------

    async def notify(
        self,
        user_id: UUID,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        in_app: bool = True,
        via: Sequence[str] | None = None,
        to: Address | None = None,
        sensitive: bool = False,
        expires_at: dt.datetime | None = None,
    ) -> Sent:
        """Tell ``user_id`` something.

        ``via`` lists address kinds: the message goes to the first of them the user has
        (``None``: the deployment's ``default_via``; ``()``: in-app only). To reach every
        address, use :meth:`notify_everywhere`. ``to`` sends to that address instead.
        """
        params = dict(params or {})
        if sensitive and in_app:
            raise ValueError("a sensitive message (one holding a secret) must not be kept in-app")
        recipient = await self.recipient(user_id)
        notification_id = None
        if in_app:
            notification_id = await self.db.fetchval(
                "INSERT INTO notifications (id, user_id, kind, params) VALUES ($1, $2, $3, $4) RETURNING id",
                uuid4(),
                user_id,
                kind,
                params,
            )
        targets: list[Address] = []
        if to is not None:
            targets = [to]
        elif recipient is not None:
            for address_kind in self.settings.default_via if via is None else via:
                found = recipient.address(address_kind)
                if found is not None:
                    targets = [found]
                    break
        locale = recipient.locale if recipient else None
        ids = [
            await self._queue(
                a,
                kind,
                params,
                user_id=user_id,
                locale=locale,
                recipient=recipient,
                sensitive=sensitive,
                expires_at=expires_at,
            )
            for a in targets
        ]
        await self._deliver_after_commit(ids)
        return Sent(notification_id, tuple(ids))

    async def notify_everywhere(
        self, user_id: UUID, kind: str, params: Mapping[str, Any] | None = None, *, in_app: bool = True
    ) -> Sent:
        """Send to every address the user has (security notices: password changed, account blocked)."""
        recipient = await self.recipient(user_id)
        kinds = [a.kind for a in recipient.addresses] if recipient else []
        first = await self.notify(user_id, kind, params, in_app=in_app, via=kinds[:1] or ())
        rest = [await self.notify(user_id, kind, params, in_app=False, via=(k,)) for k in kinds[1:]]
        return Sent(
            first.notification_id, first.delivery_ids + tuple(i for s in rest for i in s.delivery_ids)
        )

    async def send(
        self,
        to: Address,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        user_id: UUID | None = None,
        locale: str | None = None,
        sensitive: bool = False,
        expires_at: dt.datetime | None = None,
    ) -> UUID:
        """Send one message to one address, without an in-app copy."""
        recipient = await self.recipient(user_id) if user_id else None
        if locale is None and recipient is not None:
            locale = recipient.locale
        delivery_id = await self._queue(
            to,
            kind,
            dict(params or {}),
            user_id=user_id,
            locale=locale,
            recipient=recipient,
            sensitive=sensitive,
            expires_at=expires_at,
        )
        await self._deliver_after_commit([delivery_id])
        return delivery_id

    async def _queue(
        self,
        to: Address,
        kind: str,
        params: dict[str, Any],
        *,
        user_id: UUID | None,
        locale: str | None,
        recipient: Recipient | None,
        sensitive: bool,
        expires_at: dt.datetime | None,
    ) -> UUID:
        from core.access.pii import mask

        locale = locale or i18n.current_locale()
        rendered = self.render(kind, params, locale, recipient)
        payload = json.dumps(
            {
                "to": [to.kind, to.value],
                "subject": rendered.subject,
                "text": rendered.text,
                "locale": locale,
                "sensitive": sensitive,
            }
        )
        delivery_id = uuid4()
        await self.db.execute(
            """INSERT INTO notifications_deliveries
                 (id, user_id, kind, address_kind, address_masked, payload_enc, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6,
                       coalesce($7, clock_timestamp() + make_interval(hours => $8)))""",
            delivery_id,
            user_id,
            kind,
            to.kind,
            mask(to.value)[:100],
            self._cipher().encrypt(payload, context=PAYLOAD_CONTEXT),
            expires_at,
            self.settings.delivery_ttl_hours,
        )
        return delivery_id

    async def _deliver_after_commit(self, ids: list[UUID]) -> None:
        if not ids:
            return

        async def deliver() -> None:
            for delivery_id in ids:
                await self.deliver(delivery_id)

        if self.db.in_transaction:
            self.db.after_commit(deliver)
        else:
            await deliver()

    async def deliver(self, delivery_id: UUID) -> str:
        """Try one delivery now; returns its new status. Safe to call twice: only one call claims it."""
        started = time.perf_counter()
        status, sensitive = await self._deliver(delivery_id)
        if sensitive:
            self.typical_code_delivery_s += (time.perf_counter() - started - self.typical_code_delivery_s) / 8
        return status

    async def _deliver(self, delivery_id: UUID) -> tuple[str, bool]:
        row = await self.db.fetchrow(
            """UPDATE notifications_deliveries SET status = 'sending', attempts = attempts + 1,
                      claimed_at = clock_timestamp()
               WHERE id = $1 AND status IN ('pending', 'retry') AND payload_enc IS NOT NULL
               RETURNING *, expires_at < clock_timestamp() AS expired""",
            delivery_id,
        )
        if row is None:
            return "skipped", False
        if row["expired"]:
            await self._finish(delivery_id, "expired", error="expired before it could be delivered")
            return "expired", False
        payload = json.loads(self._cipher().decrypt(row["payload_enc"], context=PAYLOAD_CONTEXT))
        message = OutgoingMessage(
            delivery_id=delivery_id,
            kind=row["kind"],
            to=Address(*payload["to"]),
            subject=payload["subject"],
            text=payload["text"],
            locale=payload["locale"],
            user_id=row["user_id"],
            sensitive=payload["sensitive"],
            expires_at=row["expires_at"],
        )
        channels = self.channels_for(message.to.kind)
        if not channels:
            log.warning(
                "no channel delivers to %s addresses (notification %s)", message.to.kind, message.kind
            )
            await self._finish(
                delivery_id, "undeliverable", error=f"no channel for {message.to.kind} addresses"
            )
            return "undeliverable", message.sensitive
        errors = []
        for channel in channels:
            result = await self._call(channel, message)
            if result.status == DeliveryStatus.SENT:
                await self._finish(
                    delivery_id, "sent", channel=channel.name, provider_ref=result.provider_ref
                )
                return "sent", message.sensitive
            errors.append(f"{channel.name}: {result.error or result.status}")
            if result.status == DeliveryStatus.RETRY:
                break
        error = "; ".join(errors)[:1000]
        if result.status == DeliveryStatus.RETRY and row["attempts"] < self.settings.max_attempts:
            await self.db.execute(
                """UPDATE notifications_deliveries SET status = 'retry', last_error = $2,
                          next_attempt_at = clock_timestamp() + $3::interval WHERE id = $1""",
                delivery_id,
                error,
                _backoff(row["attempts"]),
            )
            return "retry", message.sensitive
        await self._finish(delivery_id, "failed", error=error)
        return "failed", message.sensitive

    async def _call(self, channel: NotificationChannel, message: OutgoingMessage) -> DeliveryResult:
        try:
            return await asyncio.wait_for(channel.send(message), timeout=self.settings.send_timeout_s)
        except TimeoutError:
            return DeliveryResult.retry(f"no answer within {self.settings.send_timeout_s:g}s")
        except Exception as exc:  # a channel's bug must not lose the message: retry later
            log.exception("notification channel %s failed", channel.name)
            return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")

    async def _finish(
        self,
        delivery_id: UUID,
        status: str,
        *,
        channel: str | None = None,
        provider_ref: str | None = None,
        error: str | None = None,
    ) -> None:
        # The text is wiped once delivery is over: it may hold a code, and it has done its job.
        await self.db.execute(
            """UPDATE notifications_deliveries SET status = $2, channel = $3, provider_ref = $4, last_error = $5,
                      payload_enc = NULL, finished_at = clock_timestamp() WHERE id = $1""",
            delivery_id,
            status,
            channel,
            provider_ref,
            error,
        )

    async def deliver_due(self, limit: int = 200) -> dict[str, int]:
        """Retry what is due, pick up what a crash interrupted, give up what expired."""
        await self.db.execute(
            """UPDATE notifications_deliveries SET status = 'retry'
               WHERE status = 'sending' AND claimed_at < clock_timestamp() - $1::interval""",
            STALE_SENDING,
        )
        rows = await self.db.fetch(
            """SELECT id FROM notifications_deliveries
               WHERE (status = 'retry' AND next_attempt_at <= clock_timestamp())
                  OR (status = 'pending' AND created_at < clock_timestamp() - interval '30 seconds')
               ORDER BY created_at LIMIT $1""",
            limit,
        )
        counts: dict[str, int] = {}
        for row in rows:
            status = await self.deliver(row["id"])
            counts[status] = counts.get(status, 0) + 1
        return counts

    async def delivery_status(self, delivery_id: UUID) -> str | None:
        return await self.db.fetchval(
            "SELECT status FROM notifications_deliveries WHERE id = $1", delivery_id
        )

    # -- in-app -----------------------------------------------------------------------

    async def list_for(
        self,
        user_id: UUID,
        *,
        before: dt.datetime | None = None,
        limit: int = 20,
        unread_only: bool = False,
        locale: str | None = None,
    ) -> list[Notification]:
        rows = await self.db.fetch(
            """SELECT * FROM notifications WHERE user_id = $1 AND ($2::timestamptz IS NULL OR created_at < $2)
                 AND (NOT $3 OR read_at IS NULL)
               ORDER BY created_at DESC, id DESC LIMIT $4""",
            user_id,
            moment_in_utc(before) if before is not None else None,
            unread_only,
            max(1, min(limit, 100)),
        )
        found = []
        for row in rows:
            rendered = self.render(row["kind"], row["params"] or {}, locale)
            found.append(
                Notification(
                    row["id"],
                    row["user_id"],
                    row["kind"],
                    row["params"] or {},
                    row["created_at"],
                    row["read_at"],
                    rendered.subject,
                    rendered.text,
                )
            )
        return found

    async def unread_count(self, user_id: UUID) -> int:
        return await self.db.fetchval(
            "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL", user_id
        )

    async def mark_read(self, user_id: UUID, notification_id: UUID) -> bool:
        """Mark one of ``user_id``'s notifications read; False when it is not theirs (or does not exist)."""
        status = await self.db.execute(
            """UPDATE notifications SET read_at = coalesce(read_at, clock_timestamp())
               WHERE id = $1 AND user_id = $2""",
            notification_id,
            user_id,
        )
        return status.endswith(" 1")

    async def mark_all_read(self, user_id: UUID) -> int:
        status = await self.db.execute(
            "UPDATE notifications SET read_at = clock_timestamp() WHERE user_id = $1 AND read_at IS NULL",
            user_id,
        )
        return int(status.split()[-1])

    async def forget_user(self, user_id: UUID) -> None:
        """Drop what was said to a deleted user (the messages may quote their personal data)."""
        await self.db.execute("DELETE FROM notifications WHERE user_id = $1", user_id)
        await self.db.execute(
            """UPDATE notifications_deliveries SET payload_enc = NULL, address_masked = '',
                      status = CASE WHEN status IN ('pending','retry','sending') THEN 'cancelled' ELSE status END
               WHERE user_id = $1""",
            user_id,
        )
