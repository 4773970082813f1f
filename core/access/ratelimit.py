"""Rate limits that every process of a deployment shares: counters in PostgreSQL.

A :class:`Limit` is a name, a number of hits and a window. ``hit`` counts one and says
whether it is still within the limit; ``peek`` only looks. Counters are fixed windows
that start with the first hit, which is all a login form or a code check needs.

Call these outside your own transaction (or after it): a failed login must count even
when the request that made it rolls back. Subjects are user ids, blind indexes or IP
addresses: never a plain e-mail or phone number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from litestar.exceptions import TooManyRequestsException

from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.db import Database


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_s: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    hits: int
    limit: int
    retry_after_s: int

    def raise_if_denied(self, message: str) -> None:
        if not self.allowed:
            raise TooManyRequests(message, self.retry_after_s)


class TooManyRequests(TooManyRequestsException):
    """429 with a Retry-After header and a message saying when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        retry = max(1, int(retry_after_s))
        minutes = (retry + 59) // 60
        super().__init__(
            _("%(what)s; try again in %(minutes)s min", what=message, minutes=minutes),
            headers={"Retry-After": str(retry)},
        )
        self.retry_after_s = retry


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    def key(limit: Limit, subject: str) -> str:
        return f"{limit.name}:{subject}"[:300]

    async def hit(self, limit: Limit, subject: str, cost: int = 1) -> Decision:
        """Count ``cost`` hits against ``subject``; allowed while the total stays within the limit."""
        row = await self.db.fetchrow(
            """INSERT INTO access_rate_limits AS r (key, window_start, hits, window_s)
               VALUES ($1, clock_timestamp(), $2, $3)
               ON CONFLICT (key) DO UPDATE SET
                 hits = CASE WHEN r.window_start + make_interval(secs => r.window_s) <= clock_timestamp()
                             THEN excluded.hits ELSE r.hits + excluded.hits END,
                 window_start = CASE WHEN r.window_start + make_interval(secs => r.window_s) <= clock_timestamp()
                             THEN clock_timestamp() ELSE r.window_start END,
                 window_s = excluded.window_s
               RETURNING hits,
                 ceil(extract(epoch FROM r.window_start + make_interval(secs => r.window_s) - clock_timestamp()))::int
                   AS retry""",
            self.key(limit, subject),
            cost,
            limit.window_s,
        )
        return Decision(row["hits"] <= limit.limit, row["hits"], limit.limit, max(row["retry"], 1))

    async def peek(self, limit: Limit, subject: str) -> Decision:
        """The current state without counting: denied once the limit is used up."""
        row = await self.db.fetchrow(
            """SELECT hits,
                 ceil(extract(epoch FROM window_start + make_interval(secs => window_s) - clock_timestamp()))::int
                   AS retry
               FROM access_rate_limits WHERE key = $1""",
            self.key(limit, subject),
        )
        if row is None or row["retry"] <= 0:
            return Decision(True, 0, limit.limit, 0)
        return Decision(row["hits"] < limit.limit, row["hits"], limit.limit, row["retry"])

    async def reset(self, limit: Limit, subject: str) -> None:
        await self.db.execute("DELETE FROM access_rate_limits WHERE key = $1", self.key(limit, subject))

    async def purge_expired(self) -> int:
        status = await self.db.execute(
            "DELETE FROM access_rate_limits WHERE window_start + make_interval(secs => window_s) < clock_timestamp()"
        )
        return int(status.split()[-1])
