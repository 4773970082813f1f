"""Terminals as an admin registers them, and the leases workers hold on their lines.

A terminal is an id (``kiosk-01``, also part of its ledger accounts' names), a driver, the
serial port of its bill validator, where it stands, its currency and the notes it takes.
Its kiosk key (shown once, kept as a hash) lets the kiosk screen start deposit sessions.

Leases: a worker opens a terminal's line only while it holds the terminal's lease (a row
lock would not survive the worker; an advisory lock needs a connection per terminal). The
lease lasts ``lease_s`` and the holder renews it every ``heartbeat_s``; a worker that
dies loses its terminals to another after the lease runs out. Every write that credits a
note checks the lease in the same transaction, so a worker that lost its lease cannot
credit anything.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from core.access.audit import AuditLog
from core.web.i18n import gettext as _
from plugins.terminals import records
from plugins.terminals.records import Conflict, Refused, TerminalRecord, not_found

if TYPE_CHECKING:
    from core.access import Identity
    from core.platform import Platform
    from plugins.terminals.settings import TerminalsSettings

#: Fields an admin may change; changing the line's (driver, port, currency) makes the worker reopen it.
EDITABLE = ("title", "driver", "port", "location", "currency", "denominations", "active")
LINE_FIELDS = ("driver", "port", "currency", "active")


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_kiosk_key() -> str:
    return secrets.token_urlsafe(18)


class TerminalStore:
    def __init__(self, platform: Platform, settings: TerminalsSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def db(self) -> Any:
        return self.platform.db

    @property
    def currency(self) -> str:
        return self.settings.currency or self.platform.core.platform.currency

    # -- reading ----------------------------------------------------------------------------------------

    async def get(self, terminal_id: str) -> TerminalRecord:
        row = await self.db.fetchrow("SELECT * FROM terminals_terminals WHERE id = $1", str(terminal_id)[:40])
        if row is None:
            raise not_found(_("terminal"), terminal_id)
        return TerminalRecord.of(row)

    async def list(self, *, active: bool | None = None) -> list[TerminalRecord]:
        rows = await self.db.fetch(
            "SELECT * FROM terminals_terminals WHERE ($1::boolean IS NULL OR active = $1) ORDER BY id", active)
        return [TerminalRecord.of(r) for r in rows]

    def driver_names(self) -> list[str]:
        return self.platform.registry("terminal_drivers").names()

    # -- what an admin does -----------------------------------------------------------------------------

    def _validated(self, data: Mapping[str, Any], current: TerminalRecord | None = None) -> dict[str, Any]:
        """The fields of ``data`` that are given, checked; a 422 names the first wrong one."""
        out: dict[str, Any] = {}
        cur = records.currency(data["currency"]) if data.get("currency") else (
            current.currency if current else self.currency)
        if "title" in data:
            out["title"] = records.text_field("title", data["title"], 200)
        if "location" in data:
            out["location"] = records.text_field("location", data["location"], 500)
        if "driver" in data:
            driver = str(data["driver"] or "")
            if driver not in self.driver_names():
                raise Refused(_("driver: one of %(names)s", names=", ".join(self.driver_names()) or "-"))
            out["driver"] = driver
        if "port" in data:
            out["port"] = records.port(data["port"], sandbox=self.platform.core.platform.sandbox)
        if data.get("currency"):
            out["currency"] = cur
        if "denominations" in data:
            out["denominations"] = records.denominations(data["denominations"], cur)
        elif current and cur != current.currency:  # the same notes, in the new currency
            out["denominations"] = records.denominations([n.amount for n in current.denominations], cur)
        if "active" in data:
            out["active"] = bool(data["active"])
        return out

    async def create(self, data: Mapping[str, Any], *, actor: Identity | None = None,
                     kiosk_key: str | None = None) -> tuple[TerminalRecord, str]:
        """Register a terminal; returns it and its kiosk key (shown this once; ``kiosk_key`` sets it)."""
        terminal_id = records.terminal_id(data.get("id"))
        fields = self._validated({"denominations": self.settings.denominations, **data})
        for required in ("driver", "port"):
            if required not in fields:
                raise Refused(_("%(field)s: required", field=required))
        currency = fields.get("currency", self.currency)
        key = kiosk_key or new_kiosk_key()
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                """INSERT INTO terminals_terminals (id, title, driver, port, location, currency, denominations,
                       active, kiosk_key_hash)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING *""",
                terminal_id, fields.get("title", ""), fields["driver"], fields["port"], fields.get("location", ""),
                currency, [n.minor for n in fields["denominations"]], fields.get("active", True), key_hash(key))
            if row is None:
                raise Conflict(_("a terminal with id %(id)s exists already", id=terminal_id))
            terminal = TerminalRecord.of(row)
            await self._audit("terminals.created", terminal, actor, driver=terminal.driver, port=terminal.port,
                              location=terminal.location)
        return terminal, key

    async def update(self, terminal_id: str, data: Mapping[str, Any], *, actor: Identity | None = None
                     ) -> TerminalRecord:
        current = await self.get(terminal_id)
        fields = {k: v for k, v in self._validated(data, current).items() if k in EDITABLE}
        changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
        if not changed:
            return current
        values: list[Any] = []
        assignments = []
        for name, value in changed.items():
            values.append([n.minor for n in value] if name == "denominations" else value)
            assignments.append(f"{name} = ${len(values) + 1}")
        if any(k in LINE_FIELDS for k in changed):
            assignments.append("version = version + 1")
        async with self.db.transaction() as conn:
            row = await conn.fetchrow(
                f"UPDATE terminals_terminals SET {', '.join(assignments)}, updated_at = now() WHERE id = $1 "
                "RETURNING *", current.id, *values)
            terminal = TerminalRecord.of(row)
            await self._audit("terminals.updated", terminal, actor,
                              **{k: records.amounts(v) if k == "denominations" else v for k, v in changed.items()})
        return terminal

    async def rotate_kiosk_key(self, terminal_id: str, *, actor: Identity | None = None) -> str:
        terminal = await self.get(terminal_id)
        key = new_kiosk_key()
        async with self.db.transaction():
            await self.db.execute("UPDATE terminals_terminals SET kiosk_key_hash = $2, updated_at = now() "
                                  "WHERE id = $1", terminal.id, key_hash(key))
            await self._audit("terminals.kiosk_key_rotated", terminal, actor)
        return key

    async def kiosk_key_valid(self, terminal_id: str, key: str | None) -> bool:
        if not key or len(key) > 200:
            return False
        stored = await self.db.fetchval("SELECT kiosk_key_hash FROM terminals_terminals WHERE id = $1 AND active",
                                        str(terminal_id)[:40])
        return stored is not None and hmac.compare_digest(bytes(stored), key_hash(key))

    async def _audit(self, action: str, terminal: TerminalRecord, actor: Identity | None, **details: Any) -> None:
        await self.platform.service(AuditLog).record(action=action, target=f"terminal:{terminal.id}",
                                                     details={k: str(v) for k, v in details.items()}, actor=actor)

    # -- leases and status (the runner) ---------------------------------------------------------------------

    async def claim(self, terminal_id: str, owner: str) -> TerminalRecord | None:
        """Take or renew the lease on an active terminal; None when another worker holds it."""
        row = await self.db.fetchrow(
            """UPDATE terminals_terminals
                  SET lease_owner = $2, lease_until = now() + make_interval(secs => $3), last_seen_at = now()
                WHERE id = $1 AND active AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < now())
            RETURNING *""",
            terminal_id, owner, self.settings.lease_s)
        return TerminalRecord.of(row) if row else None

    async def release(self, terminal_id: str, owner: str) -> None:
        await self.db.execute(
            """UPDATE terminals_terminals SET lease_owner = NULL, lease_until = NULL,
                      status = 'offline', status_detail = $3
                WHERE id = $1 AND lease_owner = $2""", terminal_id, owner, _("the worker let the line go"))

    async def claimable(self, owner: str) -> list[TerminalRecord]:
        """Active terminals no other worker holds, and the ones this worker holds."""
        rows = await self.db.fetch(
            """SELECT * FROM terminals_terminals
                WHERE active AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < now()) ORDER BY id""",
            owner)
        return [TerminalRecord.of(r) for r in rows]

    async def set_status(self, terminal_id: str, owner: str, *, status: str | None = None, detail: str | None = None,
                         device_state: str | None = None, device_info: Mapping[str, Any] | None = None) -> None:
        """Record what the device is doing (only by the lease holder)."""
        await self.db.execute(
            """UPDATE terminals_terminals
                  SET status = coalesce($3, status), status_detail = coalesce($4, status_detail),
                      device_state = coalesce($5, device_state), device_info = coalesce($6, device_info),
                      last_seen_at = now(), offline_reported = false
                WHERE id = $1 AND lease_owner = $2""",
            terminal_id, owner, status, detail[:1000] if detail is not None else None, device_state,
            dict(device_info) if device_info is not None else None)

    async def silent(self, seconds: int) -> list[TerminalRecord]:
        """Active terminals nobody has heard from for ``seconds`` and not yet reported offline."""
        rows = await self.db.fetch(
            """SELECT * FROM terminals_terminals
                WHERE active AND NOT offline_reported
                  AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => $1))""", seconds)
        return [TerminalRecord.of(r) for r in rows]

    async def mark_offline(self, terminal_id: str, detail: str) -> bool:
        status = await self.db.execute(
            """UPDATE terminals_terminals SET status = 'offline', status_detail = $2, offline_reported = true
                WHERE id = $1 AND NOT offline_reported""", terminal_id, detail)
        return status.endswith(" 1")

