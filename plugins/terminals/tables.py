"""Tables of the terminals plugin (created by ``piccolo_migrations/``; keep both in sync)."""

from piccolo.columns import JSONB, UUID, Array, BigInt, Boolean, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.table import Table


class Terminal(Table, tablename="terminals_terminals"):
    """A cash terminal: its bill validator's driver and line, where it stands, what it takes."""

    id = Varchar(length=40, primary_key=True)
    title = Varchar(length=200)
    driver = Varchar(length=100)
    port = Varchar(length=500)
    location = Text()
    currency = Varchar(length=3)
    denominations = Array(base_column=BigInt())
    active = Boolean(default=True)
    kiosk_key_hash = Bytea()
    version = Integer(default=1)
    status = Varchar(length=20, default="offline")
    status_detail = Text()
    device_state = Varchar(length=100)
    device_info = JSONB()
    lease_owner = Varchar(length=200, null=True, default=None)
    lease_until = Timestamptz(null=True, default=None)
    last_seen_at = Timestamptz(null=True, default=None)
    offline_reported = Boolean()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class TerminalEvent(Table, tablename="terminals_events"):
    """What a terminal's device (or its line) reported; stacked notes carry their credit."""

    id = BigSerial(primary_key=True)
    terminal_id = Varchar(length=40)
    event_id = Varchar(length=100)
    kind = Varchar(length=20)
    detail = Varchar(length=300)
    amount_minor = BigInt(null=True, default=None)
    currency = Varchar(length=3, null=True, default=None)
    session_id = UUID(null=True, default=None)
    user_id = UUID(null=True, default=None)
    credited_to = Varchar(length=20)
    transfer_id = UUID(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    assigned_to = UUID(null=True, default=None)
    assigned_at = Timestamptz(null=True, default=None)
    at = Timestamptz()


class DepositCode(Table, tablename="terminals_deposit_codes"):
    """A short-lived code a customer types at a kiosk (only its keyed hash is kept)."""

    code_hash = Bytea(primary_key=True)
    user_id = UUID()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class KioskSession(Table, tablename="terminals_sessions"):
    """A customer at a terminal: the notes they put in go to their wallet."""

    id = UUID(primary_key=True)
    terminal_id = Varchar(length=40)
    user_id = UUID()
    currency = Varchar(length=3)
    started_at = Timestamptz()
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    end_reason = Varchar(length=30)
    notes = Integer()
    total_minor = BigInt()


class Collection(Table, tablename="terminals_collections"):
    """An encashment: the cash box emptied, its money on its way to the bank."""

    id = UUID(primary_key=True)
    number = BigSerial()
    terminal_id = Varchar(length=40)
    collected_at = Timestamptz()
    recorded_by = UUID(null=True, default=None)
    collector = Varchar(length=200)
    seal = Varchar(length=100)
    note = Text()
    currency = Varchar(length=3)
    amount_minor = BigInt()
    notes = Integer()
    breakdown = JSONB()
    last_event_id = BigInt()
    transfer_id = UUID(null=True, default=None)
