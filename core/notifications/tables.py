"""Tables of the notifications (kept in step with ``piccolo_migrations``)."""

from piccolo.columns import JSONB, UUID, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class NotificationRow(Table, tablename="notifications"):
    """An in-app notification: rendered in the reader's language when shown."""

    id = UUID(primary_key=True)
    user_id = UUID()
    kind = Varchar(length=200)
    params = JSONB()
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class Delivery(Table, tablename="notifications_deliveries"):
    """One message to one address, and how its delivery went."""

    id = UUID(primary_key=True)
    user_id = UUID(null=True, default=None)
    kind = Varchar(length=200)
    address_kind = Varchar(length=32)
    address_masked = Varchar(length=100)
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    channel = Varchar(length=100, null=True, default=None)
    provider_ref = Varchar(length=200, null=True, default=None)
    last_error = Text(null=True, default=None)
    payload_enc = Bytea(null=True, default=None)
    created_at = Timestamptz()
    claimed_at = Timestamptz(null=True, default=None)
    next_attempt_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
