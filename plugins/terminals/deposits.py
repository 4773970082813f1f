"""Who is at the terminal: deposit codes and kiosk sessions.

A signed-in customer asks for a deposit code (six digits, valid ``deposit_code_ttl_s``; a new
one cancels the old). At the terminal they type it on the kiosk screen: that starts a kiosk
session, and while it is open the runner lets the device take notes, each credited to that
customer. A session ends when the customer presses "finish", when no note came for
``session_idle_s``, or when the next customer's code replaces it.

Only a keyed hash of a code is stored. Six digits are guessed easily offline, so the key is
the deployment's secret; online, each terminal refuses to check more than ``code_attempts``
wrong codes in ten minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import PermissionDeniedException

from core.access.audit import AuditLog
from core.access.keys import platform_key
from core.access.ratelimit import Limit, RateLimiter
from core.users.service import Users
from core.web.i18n import gettext as _
from plugins.terminals.records import Conflict, Refused, SessionRecord, TerminalRecord

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.terminals.settings import TerminalsSettings

CODE_DIGITS = 6


class Deposits:
    def __init__(self, platform: Platform, settings: TerminalsSettings) -> None:
        self.platform = platform
        self.settings = settings
        self._key = platform_key(platform, "terminals.deposit_codes")
        self.wrong_codes = Limit("terminals.wrong_code", settings.code_attempts, 600)

    @property
    def db(self) -> Any:
        return self.platform.db

    def _hash(self, code: str) -> bytes:
        return hmac.new(self._key, code.encode(), hashlib.sha256).digest()

    # -- codes -------------------------------------------------------------------------------------------

    async def issue_code(self, user_id: UUID) -> tuple[str, dt.datetime]:
        """A new code for ``user_id`` (their earlier codes stop working); returns it and when it expires."""
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE terminals_deposit_codes SET used_at = now() WHERE user_id = $1 "
                               "AND used_at IS NULL", user_id)
            for _attempt in range(20):
                code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
                digest = self._hash(code)
                # A code can be reused once its earlier holder's has expired or been used.
                await conn.execute("DELETE FROM terminals_deposit_codes WHERE code_hash = $1 "
                                   "AND (used_at IS NOT NULL OR expires_at < now())", digest)
                expires = await conn.fetchval(
                    """INSERT INTO terminals_deposit_codes (code_hash, user_id, expires_at)
                       VALUES ($1, $2, now() + make_interval(secs => $3)) ON CONFLICT DO NOTHING
                       RETURNING expires_at""", digest, user_id, self.settings.deposit_code_ttl_s)
                if expires is not None:
                    return code, expires
        raise Conflict(_("no free deposit code right now; try again in a minute"))

    async def active_code_expiry(self, user_id: UUID) -> dt.datetime | None:
        return await self.db.fetchval(
            "SELECT max(expires_at) FROM terminals_deposit_codes WHERE user_id = $1 AND used_at IS NULL "
            "AND expires_at > now()", user_id)

    async def purge_codes(self) -> int:
        status = await self.db.execute(
            "DELETE FROM terminals_deposit_codes WHERE used_at IS NOT NULL OR expires_at < now()")
        return int(status.split()[-1])

    # -- sessions ------------------------------------------------------------------------------------------

    async def start(self, terminal: TerminalRecord, code: str) -> SessionRecord:
        """The customer typed ``code`` at ``terminal``: open their session (a 4xx says why not)."""
        limiter = RateLimiter(self.db)
        (await limiter.peek(self.wrong_codes, terminal.id)).raise_if_denied(_("too many wrong codes at this terminal"))
        code = "".join(ch for ch in str(code) if ch.isdigit())
        if len(code) != CODE_DIGITS:
            await limiter.hit(self.wrong_codes, terminal.id)
            raise Refused(_("code: the %(digits)s digits shown on your deposit page", digits=CODE_DIGITS))
        if not terminal.active:
            raise Conflict(_("this terminal is switched off"))
        now = dt.datetime.now(dt.UTC)
        if terminal.status != "online" or not terminal.seen_within(self.settings.offline_after_s, now):
            raise Conflict(_("this terminal cannot take notes now (%(status)s)", status=_(terminal.status)))
        async with self.db.transaction() as conn:
            user_id = await conn.fetchval(
                """UPDATE terminals_deposit_codes SET used_at = now()
                    WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING user_id""",
                self._hash(code))
            if user_id is not None:
                customer = await self.platform.service(Users).get(user_id)
                if customer.status != "active":
                    raise PermissionDeniedException(_("this account cannot deposit money"))
                await conn.execute(
                    """UPDATE terminals_sessions SET ended_at = now(), end_reason = 'replaced'
                        WHERE terminal_id = $1 AND ended_at IS NULL""", terminal.id)
                row = await conn.fetchrow(
                    """INSERT INTO terminals_sessions (id, terminal_id, user_id, currency, expires_at)
                       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5)) RETURNING *""",
                    uuid.uuid4(), terminal.id, user_id, terminal.currency, self.settings.session_idle_s)
                await self.platform.service(AuditLog).record(
                    action="terminals.session_started", target=f"terminal:{terminal.id}", actor=user_id,
                    details={"session_id": str(row["id"])})
                return SessionRecord.of(row)
        await limiter.hit(self.wrong_codes, terminal.id)
        raise Refused(_("code: wrong or expired; ask for a new one on your deposit page"))

    async def current(self, terminal_id: str) -> SessionRecord | None:
        """The open session at the terminal, unless it has run out of time."""
        row = await self.db.fetchrow(
            "SELECT * FROM terminals_sessions WHERE terminal_id = $1 AND ended_at IS NULL AND expires_at > now()",
            terminal_id)
        return SessionRecord.of(row) if row else None

    async def get(self, session_id: UUID) -> SessionRecord | None:
        row = await self.db.fetchrow("SELECT * FROM terminals_sessions WHERE id = $1", session_id)
        return SessionRecord.of(row) if row else None

    async def finish(self, terminal_id: str, reason: str = "finished") -> SessionRecord | None:
        row = await self.db.fetchrow(
            """UPDATE terminals_sessions SET ended_at = now(), end_reason = $2
                WHERE terminal_id = $1 AND ended_at IS NULL RETURNING *""", terminal_id, reason)
        return SessionRecord.of(row) if row else None

    async def end_idle(self, terminal_id: str) -> SessionRecord | None:
        """End the terminal's session if it ran out of time."""
        row = await self.db.fetchrow(
            """UPDATE terminals_sessions SET ended_at = now(), end_reason = 'timeout'
                WHERE terminal_id = $1 AND ended_at IS NULL AND expires_at <= now() RETURNING *""", terminal_id)
        return SessionRecord.of(row) if row else None

    async def latest(self, terminal_id: str) -> SessionRecord | None:
        row = await self.db.fetchrow(
            "SELECT * FROM terminals_sessions WHERE terminal_id = $1 ORDER BY started_at DESC LIMIT 1", terminal_id)
        return SessionRecord.of(row) if row else None

    async def of_user(self, user_id: UUID, limit: int = 20) -> list[SessionRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM terminals_sessions WHERE user_id = $1 ORDER BY started_at DESC LIMIT $2", user_id, limit)
        return [SessionRecord.of(r) for r in rows]

    async def of_terminal(self, terminal_id: str, limit: int = 20) -> list[SessionRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM terminals_sessions WHERE terminal_id = $1 ORDER BY started_at DESC LIMIT $2",
            terminal_id, limit)
        return [SessionRecord.of(r) for r in rows]
