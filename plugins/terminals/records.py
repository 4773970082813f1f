"""The plugin's records, their refusals, and what a terminal's settings must look like."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from litestar.exceptions import ClientException, NotFoundException

from core.access.inputs import is_text, plain_text
from core.money import Money, MoneyError
from core.web.i18n import gettext as _

TERMINAL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
#: A device path, a Windows port, or a pyserial URL (socket://, rfc2217://, spy://, hwgrep://...).
PORT = re.compile(r"^(/[^\s]+|COM\d{1,3}|[a-z][a-z0-9+]{1,20}://\S*)$")
#: A terminal whose port is this talks to its driver's emulator (sandbox deployments only).
EMULATOR_PORT = "emulator"
MAX_DENOMINATIONS = 24


class Refused(ClientException):
    """A request the terminals plugin will not carry out; the message says why (422)."""

    status_code = 422


class Conflict(ClientException):
    """The terminal or session is not in a state that allows this (409)."""

    status_code = 409


def not_found(what: str, key: Any) -> NotFoundException:
    return NotFoundException(_("no %(what)s %(key)s", what=what, key=key))


@dataclass(frozen=True)
class TerminalRecord:
    id: str
    title: str
    driver: str
    port: str
    location: str
    currency: str
    denominations: tuple[Money, ...]
    active: bool
    version: int
    #: ``offline`` (no worker holds its line, or the line is down), ``online``, ``fault`` (the device can't take notes).
    status: str
    status_detail: str
    device_state: str
    device_info: Mapping[str, Any]
    lease_owner: str | None
    lease_until: dt.datetime | None
    last_seen_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def name(self) -> str:
        return self.title or self.id

    @property
    def emulated(self) -> bool:
        return self.port == EMULATOR_PORT

    def seen_within(self, seconds: int, now: dt.datetime) -> bool:
        return self.last_seen_at is not None and (now - self.last_seen_at).total_seconds() <= seconds

    @classmethod
    def of(cls, row: Any) -> TerminalRecord:
        return cls(
            row["id"], row["title"], row["driver"], row["port"], row["location"], row["currency"],
            tuple(Money(m, row["currency"]) for m in row["denominations"]), row["active"], row["version"],
            row["status"], row["status_detail"], row["device_state"], row["device_info"] or {}, row["lease_owner"],
            row["lease_until"], row["last_seen_at"], row["created_at"], row["updated_at"],
        )


@dataclass(frozen=True)
class EventRecord:
    id: int
    terminal_id: str
    event_id: str
    kind: str
    detail: str
    amount: Money | None
    session_id: UUID | None
    user_id: UUID | None
    credited_to: str
    transfer_id: UUID | None
    acknowledged_at: dt.datetime | None
    assigned_to: UUID | None
    at: dt.datetime

    @classmethod
    def of(cls, row: Any) -> EventRecord:
        amount = Money(row["amount_minor"], row["currency"]) if row["amount_minor"] is not None else None
        return cls(row["id"], row["terminal_id"], row["event_id"], row["kind"], row["detail"], amount,
                   row["session_id"], row["user_id"], row["credited_to"], row["transfer_id"], row["acknowledged_at"],
                   row["assigned_to"], row["at"])

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "event_id": self.event_id, "kind": self.kind, "detail": self.detail,
                "amount": str(self.amount.amount) if self.amount else None,
                "currency": self.amount.currency if self.amount else None,
                "session_id": str(self.session_id) if self.session_id else None,
                "credited_to": self.credited_to or None, "at": self.at.isoformat()}


@dataclass(frozen=True)
class SessionRecord:
    id: UUID
    terminal_id: str
    user_id: UUID
    started_at: dt.datetime
    expires_at: dt.datetime
    ended_at: dt.datetime | None
    end_reason: str
    notes: int
    total: Money

    @property
    def open(self) -> bool:
        return self.ended_at is None

    @classmethod
    def of(cls, row: Any) -> SessionRecord:
        return cls(row["id"], row["terminal_id"], row["user_id"], row["started_at"], row["expires_at"],
                   row["ended_at"], row["end_reason"], row["notes"], Money(row["total_minor"], row["currency"]))

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "terminal_id": self.terminal_id, "started_at": self.started_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "ended_at": self.ended_at.isoformat() if self.ended_at else None, "end_reason": self.end_reason,
                "notes": self.notes, "total": str(self.total.amount), "currency": self.total.currency}


@dataclass(frozen=True)
class CollectionRecord:
    id: UUID
    number: int
    terminal_id: str
    collected_at: dt.datetime
    recorded_by: UUID | None
    collector: str
    seal: str
    note: str
    amount: Money
    notes: int
    #: Denomination (minor units) -> number of notes, as the device reported them stacked.
    breakdown: Mapping[int, int]
    transfer_id: UUID | None

    @classmethod
    def of(cls, row: Any) -> CollectionRecord:
        breakdown = {int(k): int(v) for k, v in (row["breakdown"] or {}).items()}
        return cls(row["id"], row["number"], row["terminal_id"], row["collected_at"], row["recorded_by"],
                   row["collector"], row["seal"], row["note"], Money(row["amount_minor"], row["currency"]),
                   row["notes"], dict(sorted(breakdown.items())), row["transfer_id"])

    def lines(self) -> list[tuple[Money, int, Money]]:
        """(denomination, count, sum) per denomination, smallest first."""
        cur = self.amount.currency
        return [(Money(d, cur), n, Money(d * n, cur)) for d, n in self.breakdown.items()]

    def as_json(self) -> dict[str, Any]:
        return {"id": str(self.id), "number": self.number, "terminal_id": self.terminal_id,
                "collected_at": self.collected_at.isoformat(), "collector": self.collector, "seal": self.seal,
                "note": self.note, "amount": str(self.amount.amount), "currency": self.amount.currency,
                "notes": self.notes,
                "breakdown": [{"denomination": str(d.amount), "count": n, "sum": str(s.amount)}
                              for d, n, s in self.lines()],
                "transfer_id": str(self.transfer_id) if self.transfer_id else None}


# -- what a terminal's settings must look like ---------------------------------------------------------------


#: Ids that would shadow admin pages (``/admin/terminals/new``).
RESERVED_IDS = frozenset({"new", "collections"})


def terminal_id(value: Any) -> str:
    text = str(value or "").strip()
    if not TERMINAL_ID.match(text) or text in RESERVED_IDS:
        raise Refused(_("id: 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit"))
    return text


def text_field(name: str, value: Any, limit: int) -> str:
    raw = str(value or "")
    if not is_text(raw):
        raise Refused(_("%(field)s: not text", field=name))
    return plain_text(raw, limit)


def port(value: Any, *, sandbox: bool) -> str:
    text = str(value or "").strip()
    if text == EMULATOR_PORT:
        if not sandbox:
            raise Refused(_("port: 'emulator' is only for sandbox deployments"))
        return text
    if not text or len(text) > 500 or not is_text(text) or not PORT.match(text):
        raise Refused(_("port: a device path (/dev/ttyUSB0), COM3, or a URL such as socket://10.0.0.7:4001"))
    return text


def denominations(values: Any, currency: str) -> tuple[Money, ...]:
    """Notes from ``"100, 500 1000"`` or a list; each a whole number of minor units."""
    items = values.replace(",", " ").split() if isinstance(values, str) else list(values or [])
    notes: list[Money] = []
    for item in items:
        try:
            amount = Decimal(str(item).strip())
            note = Money.of(amount, currency)
        except (InvalidOperation, MoneyError, ValueError):
            raise Refused(_("denominations: %(value)s is not an amount in %(currency)s", value=str(item)[:20],
                            currency=currency)) from None
        if note.minor <= 0:
            raise Refused(_("denominations: %(value)s is not a positive amount", value=str(item)[:20]))
        if note not in notes:
            notes.append(note)
    if not notes:
        raise Refused(_("denominations: name at least one note the terminal takes"))
    if len(notes) > MAX_DENOMINATIONS:
        raise Refused(_("denominations: at most %(count)s", count=MAX_DENOMINATIONS))
    return tuple(sorted(notes, key=lambda n: n.minor))


def currency(value: Any) -> str:
    text = str(value or "").strip().upper()
    try:
        Money(0, text)
    except (MoneyError, ValueError, KeyError):
        raise Refused(_("currency: a three-letter code such as RUB")) from None
    return text


def amounts(notes: Sequence[Money]) -> str:
    """``"100, 500, 1000"``: how the admin form shows them."""
    return ", ".join(f"{n.amount.normalize():f}" for n in notes)
