"""The append-only audit log: every admin action and every security event.

``await platform.service(AuditLog).record(action="users.blocked", target=f"user:{id}",
details={"reason": ...})`` writes one entry. Who did it, from which address and in which
request come from :mod:`core.access.context` unless ``actor`` is given. The entry joins
the caller's transaction, so an admin action and its record commit or vanish together.

PostgreSQL refuses UPDATE, DELETE and TRUNCATE on the table (a trigger), so not even the
platform can rewrite history. Keep personal data out of ``details``: they stay forever,
while a deleted user's personal data must go. Name users by id.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access import Identity
from core.access import context as request_context
from core.access.inputs import MAX_BIGINT, plain_text

if TYPE_CHECKING:
    from core.platform import Platform


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor_id: UUID | None
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    ip: str | None
    request_id: str | None


@dataclass
class AuditFilter:
    actor_id: UUID | None = None
    #: An exact action, or a prefix ending with "." or "*" ("auth.login*", "users.").
    action: str | None = None
    target: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def where(self, start: int = 1) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []

        def add(sql: str, value: Any) -> None:
            args.append(value)
            clauses.append(sql.format(n=start + len(args) - 1))

        if self.actor_id:
            add("actor_id = ${n}", self.actor_id)
        action, target = plain_text(self.action, 200), plain_text(self.target, 300)
        if action:
            if action.endswith(("*", ".")):
                add("action LIKE ${n}", _like_prefix(action.rstrip("*")))
            else:
                add("action = ${n}", action)
        if target:
            add("target = ${n}", target)
        if self.since:
            add("at >= ${n}", self.since)
        if self.until:
            add("at < ${n}", self.until)
        return (" AND ".join(clauses) or "true"), args


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _actor_of(
    actor: Identity | UUID | str | None, info: request_context.RequestInfo
) -> tuple[UUID | None, str]:
    if actor is None:
        if info.identity.is_authenticated:
            return info.identity.user_id, info.identity.actor
        return None, info.actor
    if isinstance(actor, Identity):
        return actor.user_id, actor.actor
    if isinstance(actor, UUID):
        return actor, f"user:{actor}"
    if actor.startswith("user:"):
        try:
            return UUID(actor[5:]), actor
        except ValueError:
            pass
    return None, actor


class AuditLog:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def record(
        self,
        *,
        action: str,
        target: str = "",
        details: Mapping[str, Any] | None = None,
        actor: Identity | UUID | str | None = None,
    ) -> int:
        """Append an entry; returns its id. ``action`` is ``"<plugin>.<what happened>"``."""
        info = request_context.current()
        actor_id, actor_name = _actor_of(actor, info)
        return await self.platform.db.fetchval(
            """INSERT INTO audit_log (actor_id, actor, action, target, details, ip, request_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id""",
            actor_id,
            actor_name[:200],
            action[:200],
            str(target)[:300],
            dict(details or {}),
            info.ip,
            info.request_id,
        )

    async def search(
        self, filters: AuditFilter | None = None, *, before_id: int | None = None, limit: int = 50
    ) -> list[AuditEntry]:
        """Newest first; pass the last entry's id as ``before_id`` for the next page."""
        where, args = (filters or AuditFilter()).where()
        if before_id is not None:
            before_id = max(0, min(before_id, MAX_BIGINT))
            args.append(before_id)
            where += f" AND id < ${len(args)}"
        args.append(max(1, min(limit, 500)))
        rows = await self.platform.db.fetch(
            f"SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT ${len(args)}", *args
        )
        return [_entry(r) for r in rows]

    async def export_csv(self, filters: AuditFilter | None = None, batch: int = 1000) -> AsyncIterator[str]:
        """The matching entries as CSV text, oldest first, in chunks (for a streamed download)."""
        where, args = (filters or AuditFilter()).where()
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["id", "at", "actor_id", "actor", "action", "target", "details", "ip", "request_id"])
        after = 0
        while True:
            rows = await self.platform.db.fetch(
                f"SELECT * FROM audit_log WHERE {where} AND id > ${len(args) + 1} ORDER BY id LIMIT ${len(args) + 2}",
                *args,
                after,
                batch,
            )
            for row in rows:
                entry = _entry(row)
                writer.writerow(
                    [
                        _cell(v)
                        for v in (
                            entry.id,
                            entry.at.isoformat(),
                            entry.actor_id or "",
                            entry.actor,
                            entry.action,
                            entry.target,
                            _json(entry.details),
                            entry.ip or "",
                            entry.request_id or "",
                        )
                    ]
                )
            chunk = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if chunk:
                yield chunk
            if len(rows) < batch:
                return
            after = rows[-1]["id"]


def _cell(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        row["id"],
        row["at"],
        row["actor_id"],
        row["actor"],
        row["action"],
        row["target"],
        row["details"] or {},
        row["ip"],
        row["request_id"],
    )
