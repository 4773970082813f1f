"""Table of the development outbox (kept in step with ``piccolo_migrations``)."""

from piccolo.columns import UUID, BigSerial, Text, Timestamptz, Varchar
from piccolo.table import Table


class OutboxMessage(Table, tablename="notify_outbox_messages"):
    """A message the outbox "sent": kept whole, codes included. Development and demos only."""

    id = BigSerial(primary_key=True)
    delivery_id = UUID(unique=True)
    created_at = Timestamptz()
    kind = Varchar(length=200)
    address_kind = Varchar(length=32)
    address = Varchar(length=320)
    subject = Text()
    text = Text()
    user_id = UUID(null=True, default=None)
