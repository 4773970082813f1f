"""Server-side sessions and API tokens.

A browser holds a random 256-bit token in an HttpOnly cookie; the database keeps only
its SHA-256, so a leaked copy of the table signs nobody in. A session ends after
``session_idle_minutes`` without requests, ``session_max_hours`` after sign-in, at
sign-out, or when the account's password changes or it is blocked. Each session has
its own CSRF token. API tokens (``Authorization: Bearer kpt_...``) work the same way for
programs and need no CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access import Identity
from core.access.inputs import plain_text

if TYPE_CHECKING:
    from core.access.roles import Roles
    from core.platform import Platform
    from core.users.settings import UsersSettings

TOKEN_PREFIX = "kpt_"
#: How often a session's "last seen" is written: not on every request.
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Resolved:
    """A session or token that checked out, with the identity it carries."""

    identity: Identity
    csrf_token: str | None
    unread: int = 0


@dataclass(frozen=True)
class NewSession:
    token: str
    id: UUID
    csrf_token: str


@dataclass(frozen=True)
class SessionInfo:
    id: UUID
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class TokenInfo:
    id: UUID
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


#: Everything a request needs about its session, in one query: the session, the user,
#: their roles, the permissions of those roles and the unread notifications.
_RESOLVE = """
SELECT s.id AS session_id, s.csrf_token, s.last_seen_at, u.id AS user_id, u.display_name, u.locale, u.email,
       clock_timestamp() > s.expires_at OR clock_timestamp() > s.last_seen_at + make_interval(mins => $2) AS expired,
       clock_timestamp() > s.last_seen_at + $3 AS touch,
       coalesce((SELECT array_agg(role_code) FROM access_user_roles WHERE user_id = u.id), '{}') AS roles,
       coalesce((SELECT array_agg(DISTINCT p.permission) FROM access_user_roles ur
                 JOIN access_role_permissions p ON p.role_code = ur.role_code WHERE ur.user_id = u.id), '{}')
         AS permissions,
       (SELECT count(*) FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL) AS unread
FROM users_sessions s JOIN users_users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND u.status = 'active'
"""

_RESOLVE_TOKEN = """
SELECT t.id AS token_id, u.id AS user_id, u.display_name, u.locale, u.email,
       t.last_used_at IS NULL OR clock_timestamp() > t.last_used_at + interval '60 seconds' AS touch,
       coalesce((SELECT array_agg(role_code) FROM access_user_roles WHERE user_id = u.id), '{}') AS roles,
       coalesce((SELECT array_agg(DISTINCT p.permission) FROM access_user_roles ur
                 JOIN access_role_permissions p ON p.role_code = ur.role_code WHERE ur.user_id = u.id), '{}')
         AS permissions
FROM users_api_tokens t JOIN users_users u ON u.id = t.user_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.status = 'active'
  AND (t.expires_at IS NULL OR t.expires_at > clock_timestamp())
"""


class Sessions:
    def __init__(self, platform: Platform, settings: UsersSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def db(self):
        return self.platform.db

    def _roles(self) -> Roles:
        from core.access.roles import Roles

        return self.platform.service(Roles)

    def _identity(self, row: Any, via: str, session_id: str | None) -> Identity:
        roles = frozenset(row["roles"])
        name = row["display_name"] or (row["email"] or "").split("@")[0]
        return Identity(
            user_id=row["user_id"],
            display_name=name,
            roles=roles,
            permissions=self._roles().effective(roles, row["permissions"]),
            locale=row["locale"],
            via=via,
            session_id=session_id,
        )

    # -- sessions -----------------------------------------------------------------------

    async def create(self, user_id: UUID, *, ip: str | None, user_agent: str | None) -> NewSession:
        """A new session for ``user_id``; its cookie token is in the result and nowhere else."""
        token, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session_id = await self.db.fetchval(
            """INSERT INTO users_sessions (token_hash, user_id, csrf_token, expires_at, ip, user_agent)
               VALUES ($1, $2, $3, clock_timestamp() + make_interval(hours => $4), $5, $6) RETURNING id""",
            token_hash(token),
            user_id,
            csrf_token,
            self.settings.session_max_hours,
            ip,
            plain_text(user_agent, 300) or None,
        )
        await self.record_activity(user_id)
        return NewSession(token, session_id, csrf_token)

    async def resolve(self, token: str) -> Resolved | None:
        """The identity behind a cookie token, or None when the session is unknown, over or revoked."""
        if not token or len(token) > 200:
            return None
        row = await self.db.fetchrow(
            _RESOLVE, token_hash(token), self.settings.session_idle_minutes, TOUCH_EVERY
        )
        if row is None:
            return None
        if row["expired"]:
            await self.db.execute(
                "UPDATE users_sessions SET revoked_at = clock_timestamp() WHERE id = $1 "
                "AND revoked_at IS NULL",
                row["session_id"],
            )
            return None
        if row["touch"]:
            await self.db.execute(
                "UPDATE users_sessions SET last_seen_at = clock_timestamp() WHERE id = $1", row["session_id"]
            )
            await self.record_activity(row["user_id"])
        return Resolved(
            self._identity(row, "session", str(row["session_id"])), row["csrf_token"], row["unread"]
        )

    async def record_activity(self, user_id: UUID) -> None:
        await self.db.execute(
            "INSERT INTO users_activity (day, user_id) VALUES (current_date, $1) ON CONFLICT DO NOTHING",
            user_id,
        )

    async def revoke(self, session_id: UUID | str, *, user_id: UUID | None = None) -> bool:
        """End one session (only one of ``user_id``'s, when given)."""
        status = await self.db.execute(
            """UPDATE users_sessions SET revoked_at = clock_timestamp()
               WHERE id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR user_id = $2)""",
            UUID(str(session_id)),
            user_id,
        )
        return status.endswith(" 1")

    async def revoke_all(self, user_id: UUID, *, keep: UUID | str | None = None) -> int:
        status = await self.db.execute(
            """UPDATE users_sessions SET revoked_at = clock_timestamp()
               WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)""",
            user_id,
            UUID(str(keep)) if keep else None,
        )
        return int(status.split()[-1])

    async def list(self, user_id: UUID) -> list[SessionInfo]:
        rows = await self.db.fetch(
            """SELECT id, created_at, last_seen_at, expires_at, ip, user_agent FROM users_sessions
               WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > clock_timestamp()
                 AND last_seen_at + make_interval(mins => $2) > clock_timestamp()
               ORDER BY last_seen_at DESC""",
            user_id,
            self.settings.session_idle_minutes,
        )
        return [SessionInfo(**dict(r)) for r in rows]

    async def purge(self) -> int:
        status = await self.db.execute(
            """DELETE FROM users_sessions WHERE expires_at < clock_timestamp() - interval '30 days'
                  OR revoked_at < clock_timestamp() - interval '30 days'"""
        )
        return int(status.split()[-1])

    # -- API tokens -----------------------------------------------------------------------

    async def create_token(self, user_id: UUID, name: str, *, days: int | None = None) -> tuple[str, UUID]:
        """A new API token; returns the token (shown once) and its id."""
        days = min(days or self.settings.api_token_max_days, self.settings.api_token_max_days)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = await self.db.fetchval(
            """INSERT INTO users_api_tokens (user_id, name, token_hash, prefix, expires_at)
               VALUES ($1, $2, $3, $4, clock_timestamp() + make_interval(days => $5)) RETURNING id""",
            user_id,
            plain_text(name, 100) or "token",
            token_hash(token),
            token[:12],
            days,
        )
        return token, token_id

    async def resolve_token(self, token: str) -> Resolved | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = await self.db.fetchrow(_RESOLVE_TOKEN, token_hash(token))
        if row is None:
            return None
        if row["touch"]:
            await self.db.execute(
                "UPDATE users_api_tokens SET last_used_at = clock_timestamp() WHERE id = $1", row["token_id"]
            )
            await self.record_activity(row["user_id"])
        return Resolved(self._identity(row, "token", None), None)

    async def list_tokens(self, user_id: UUID) -> list[TokenInfo]:
        rows = await self.db.fetch(
            """SELECT id, name, prefix, created_at, expires_at, last_used_at FROM users_api_tokens
               WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > clock_timestamp())
               ORDER BY created_at DESC""",
            user_id,
        )
        return [TokenInfo(**dict(r)) for r in rows]

    async def revoke_token(self, user_id: UUID, token_id: UUID) -> bool:
        status = await self.db.execute(
            "UPDATE users_api_tokens SET revoked_at = clock_timestamp() WHERE id = $1 AND user_id = $2 "
            "AND revoked_at IS NULL",
            token_id,
            user_id,
        )
        return status.endswith(" 1")

    async def revoke_all_tokens(self, user_id: UUID) -> int:
        status = await self.db.execute(
            "UPDATE users_api_tokens SET revoked_at = clock_timestamp() WHERE user_id = $1 AND revoked_at IS NULL",
            user_id,
        )
        return int(status.split()[-1])
