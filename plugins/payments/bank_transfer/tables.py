"""Tables of the bank-transfer plugin (created by ``piccolo_migrations/``; keep both in sync)."""

from piccolo.columns import UUID, BigInt, Date, Text, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.table import Table


class StatementLineRecord(Table, tablename="payments_bank_statement_lines"):
    """A bank statement line imported once, and what it did."""

    id = BigSerial(primary_key=True)
    line_id = Varchar(length=200)
    booked_on = Date()
    amount_minor = BigInt()
    currency = Varchar(length=3)
    counterparty = Text()
    purpose = Text()
    reference = Varchar(length=40, null=True, default=None)
    payment_id = UUID(null=True, default=None)
    outcome = Varchar(length=30)
    imported_at = Timestamptz()
    imported_by = Varchar(length=200)
