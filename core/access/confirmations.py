"""One-time codes that confirm exactly one thing.

A withdrawal, a signature, a new phone number: the caller names the *purpose* and hands
over the *payload* (what exactly is confirmed: amount, account, document hash). The
code is bound to a SHA-256 of both, so it cannot confirm anything else::

    confirmations = platform.service(Confirmations)
    challenge = await confirmations.issue(
        user_id=user.id, purpose="payments.withdrawal",
        payload={"amount": 150000, "currency": "RUB", "card": "4276****1234"},
        summary=_("Withdrawal of %(amount)s to card %(card)s", ...))
    # ... the user types the code ...
    await confirmations.verify(challenge.id, code, purpose="payments.withdrawal",
                               payload={...the same...}, user_id=user.id)

``verify`` raises a 4xx (:class:`CodeRejected` or 429) unless the code is right, unused,
unexpired and for this purpose and payload. Wrong guesses are limited per code and per
IP address. Call ``verify`` outside your own transaction: a wrong guess must count even
if your request fails afterwards; a right one is used up at once (single use).
Codes are delivered through :class:`~core.notifications.service.NotificationService`
and only their HMAC is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from litestar.exceptions import ClientException

from core.access import context as request_context
from core.access.audit import AuditLog
from core.access.keys import platform_key
from core.access.pii import mask
from core.access.ratelimit import Limit, RateLimiter, TooManyRequests
from core.contracts.notifications import Address
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.access.settings import AccessSettings
    from core.platform import Platform

#: The notification kind that carries a code (template ``access/notifications/code.txt``).
CODE_KIND = "access.code"


class CodeRejected(ClientException):
    """A code that does not confirm what was asked (422, with a message saying why)."""

    status_code = 422


@dataclass(frozen=True)
class Challenge:
    id: UUID
    purpose: str
    expires_at: dt.datetime
    #: The address the code went to, masked (``a•••@example.com``).
    sent_to: str


def canonical(payload: Mapping[str, Any]) -> str:
    """The one JSON text of a payload: sorted keys, no spaces, Decimals as strings."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal | UUID | dt.date):
            return str(value)
        raise TypeError(f"cannot confirm a value of type {type(value).__name__}; use str, int or Decimal")

    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=default)


def subject_hash(purpose: str, payload: Mapping[str, Any]) -> bytes:
    text = purpose + "\n" + canonical(payload)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class Confirmations:
    def __init__(self, platform: Platform, settings: AccessSettings) -> None:
        self.platform = platform
        self.settings = settings
        self._key = platform_key(platform, "access.confirmation-codes")
        hour = 3600
        self.per_user = Limit("code.sent.user", settings.codes_per_hour_per_user, hour)
        self.per_ip = Limit("code.sent.ip", settings.codes_per_hour_per_ip, hour)
        self.checks_per_ip = Limit("code.checked.ip", settings.code_checks_per_ip, 900)
        self.checks_per_user = Limit("code.checked.user", settings.code_checks_per_user, 900)

    @property
    def db(self):
        return self.platform.db

    @property
    def limiter(self) -> RateLimiter:
        return self.platform.service(RateLimiter)

    def _code_hash(self, challenge_id: UUID, code: str) -> bytes:
        return hmac.new(self._key, challenge_id.bytes + code.encode(), hashlib.sha256).digest()

    def _new_code(self) -> str:
        return str(secrets.randbelow(10**self.settings.code_digits)).zfill(self.settings.code_digits)

    async def _check_send_limits(self, subject: str) -> None:
        ip = request_context.current().ip
        user = await self.limiter.hit(self.per_user, subject)
        user.raise_if_denied(_("too many codes were sent"))
        if ip:
            (await self.limiter.hit(self.per_ip, ip)).raise_if_denied(
                _("too many codes were sent from your address")
            )

    async def issue(
        self,
        *,
        purpose: str,
        payload: Mapping[str, Any],
        user_id: UUID | None,
        to: Address | None = None,
        summary: str = "",
        params: Mapping[str, Any] | None = None,
        kind: str = CODE_KIND,
        prefer: tuple[str, ...] = ("phone", "email"),
    ) -> Challenge:
        """Make a code for ``purpose`` + ``payload`` and send it to ``to``.

        Without ``to`` it goes to the user's address of the first kind in ``prefer`` they have
        (a phone first: a second channel, for the money operations codes mostly confirm).

        ``summary`` says in the message what the code confirms ("Withdrawal of 1 500,00 ₽").
        Raises 429 when too many codes went to this user or from this address.
        """
        from core.notifications.service import NotificationService

        if to is None and user_id is None:
            raise ValueError("a code needs a user or an address to go to")
        notifications = self.platform.service(NotificationService)
        if to is None:
            recipient = await notifications.recipient(user_id)  # type: ignore[arg-type]
            addresses = recipient.addresses if recipient else ()
            to = next((a for k in prefer for a in addresses if a.kind == k), None) or next(
                iter(addresses), None
            )
            if to is None:
                raise ClientException(_("there is no confirmed address to send a code to"), status_code=409)
        await self._check_send_limits(str(user_id) if user_id else _address_key(self.platform, to))
        code = self._new_code()
        challenge = await self._store(purpose, payload, user_id, code, mask(to.value))
        await notifications.send(
            to,
            kind,
            {
                **(params or {}),
                "code": code,
                "summary": summary,
                "minutes": max(1, self.settings.code_ttl_s // 60),
            },
            user_id=user_id,
            sensitive=True,
            expires_at=challenge.expires_at,
        )
        await self.platform.service(AuditLog).record(
            action="access.code.sent",
            target=f"user:{user_id}" if user_id else "",
            details={"purpose": purpose, "challenge": str(challenge.id), "address_kind": to.kind},
        )
        return challenge

    async def decoy(self, *, purpose: str, to: Address) -> Challenge:
        """A challenge that looks like a real one but that no code answers.

        For "forgot password" with an unknown login: the answer must not tell whether
        an account exists, so the caller gets a challenge either way.
        """
        from core.notifications.service import NotificationService

        await self._check_send_limits(_address_key(self.platform, to))
        challenge = await self._store(
            purpose, {"decoy": str(uuid4())}, None, secrets.token_hex(16), mask(to.value)
        )
        # As long as sending a real code takes, give or take, so timing tells nothing either.
        typical = self.platform.service(NotificationService).typical_code_delivery_s
        await asyncio.sleep(typical * (0.8 + 0.4 * secrets.randbelow(1000) / 1000))
        return challenge

    async def _store(
        self, purpose: str, payload: Mapping[str, Any], user_id: UUID | None, code: str, sent_to: str
    ) -> Challenge:
        challenge_id = uuid4()
        expires_at = await self.db.fetchval(
            """INSERT INTO access_confirmations
                 (id, user_id, purpose, subject_hash, code_hash, sent_to, expires_at, max_attempts)
               VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() + make_interval(secs => $7), $8)
               RETURNING expires_at""",
            challenge_id,
            user_id,
            purpose,
            subject_hash(purpose, payload),
            self._code_hash(challenge_id, code),
            sent_to,
            self.settings.code_ttl_s,
            self.settings.code_attempts,
        )
        return Challenge(challenge_id, purpose, expires_at, sent_to)

    async def verify(
        self,
        challenge_id: UUID,
        code: str,
        *,
        purpose: str,
        payload: Mapping[str, Any],
        user_id: UUID | None = None,
    ) -> None:
        """Use up the code, or raise 422/429 saying why it does not confirm this."""
        if self.db.in_transaction:
            raise RuntimeError(
                "Confirmations.verify must run outside a transaction: wrong guesses must stick"
            )
        ip = request_context.current().ip
        if ip:
            (await self.limiter.hit(self.checks_per_ip, ip)).raise_if_denied(_("too many codes were checked"))
        code = "".join(code.split())
        if not (code.isascii() and code.isdigit()):
            code = ""  # counts as a wrong guess like any other
        # The attempt is counted before the code is compared, so parallel guesses cannot
        # slip in more tries than allowed.
        row = await self.db.fetchrow(
            """UPDATE access_confirmations SET attempts = attempts + 1
               WHERE id = $1 AND consumed_at IS NULL
               RETURNING user_id, purpose, subject_hash, code_hash, attempts, max_attempts,
                         expires_at < clock_timestamp() AS expired""",
            challenge_id,
        )
        audit = self.platform.service(AuditLog)
        if row is None:
            raise CodeRejected(
                _("this code is not valid: it was already used, or never issued; ask for a new one")
            )
        if row["user_id"] is not None:
            # New codes do not buy new guesses: the user's checks are limited across codes.
            decision = await self.limiter.hit(self.checks_per_user, str(row["user_id"]))
            decision.raise_if_denied(_("too many codes were checked"))
        if row["expired"]:
            raise CodeRejected(_("this code has expired; ask for a new one"))
        if row["attempts"] > row["max_attempts"]:
            raise TooManyRequests(_("too many wrong codes; ask for a new one"), self.settings.code_ttl_s)
        left = row["max_attempts"] - row["attempts"]
        right_code = hmac.compare_digest(row["code_hash"], self._code_hash(challenge_id, code))
        same_subject = hmac.compare_digest(row["subject_hash"], subject_hash(purpose, payload))
        same_user = user_id is None or row["user_id"] == user_id
        if not (right_code and same_subject and same_user and row["purpose"] == purpose):
            await audit.record(
                action="access.code.rejected",
                target=f"user:{row['user_id']}" if row["user_id"] else "",
                details={
                    "purpose": purpose,
                    "challenge": str(challenge_id),
                    "reason": "wrong code" if not right_code else "different operation",
                },
            )
            if right_code:
                raise CodeRejected(_("this code was issued to confirm a different operation"))
            if left <= 0:
                raise TooManyRequests(_("too many wrong codes; ask for a new one"), self.settings.code_ttl_s)
            raise CodeRejected(_("wrong code; %(left)s attempt(s) left", left=left))
        used = await self.db.fetchval(
            """UPDATE access_confirmations SET consumed_at = clock_timestamp()
               WHERE id = $1 AND consumed_at IS NULL RETURNING id""",
            challenge_id,
        )
        if used is None:
            raise CodeRejected(_("this code was already used"))
        await audit.record(
            action="access.code.confirmed",
            target=f"user:{row['user_id']}" if row["user_id"] else "",
            details={"purpose": purpose, "challenge": str(challenge_id)},
        )

    async def owner(self, challenge_id: UUID) -> UUID | None:
        """The user a challenge was issued to (None for unknown challenges and decoys)."""
        return await self.db.fetchval("SELECT user_id FROM access_confirmations WHERE id = $1", challenge_id)

    async def purge_expired(self, older_than: dt.timedelta = dt.timedelta(days=1)) -> int:
        status = await self.db.execute(
            "DELETE FROM access_confirmations WHERE expires_at < clock_timestamp() - $1::interval", older_than
        )
        return int(status.split()[-1])


def _address_key(platform: Platform, address: Address) -> str:
    """A rate-limit subject for an address that names no one in plain text."""
    from core.access.pii import PiiCipher

    return (
        platform.service(PiiCipher)
        .blind_index(f"{address.kind}:{address.value}", context="ratelimit")
        .hex()[:32]
    )
