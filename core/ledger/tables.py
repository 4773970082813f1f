"""Tables of the ledger, declared for piccolo queries (the migration's SQL is authoritative).

The ledger itself writes with set-based SQL (``core.ledger.store``); these declarations let
other code read with piccolo. Keep them in sync with ``piccolo_migrations``.
"""

from piccolo.columns import JSONB, UUID, BigInt, Bytea, Date, Integer, SmallInt, Text, Timestamptz
from piccolo.table import Table


class LedgerLedger(Table, tablename="ledger_ledgers"):
    """One ledger per currency or asset, with its scale."""

    id = Integer(primary_key=True)
    code = Text(unique=True)
    scale = SmallInt()
    created_at = Timestamptz()


class LedgerAccount(Table, tablename="ledger_accounts"):
    """An account: owner + purpose on one ledger, its rules and its running totals."""

    id = BigInt(primary_key=True)
    ledger_id = Integer()
    owner = Text()
    purpose = Text()
    flags = Integer(default=0)
    debits_limit = BigInt(null=True, default=None)
    credits_limit = BigInt(null=True, default=None)
    debits_posted = BigInt(default=0)
    credits_posted = BigInt(default=0)
    debits_pending = BigInt(default=0)
    credits_pending = BigInt(default=0)
    metadata = JSONB()
    created_at = Timestamptz()
    updated_at = Timestamptz()


class LedgerTransfer(Table, tablename="ledger_transfers"):
    """A committed transfer (append-only) with both accounts' totals right after it."""

    id = UUID(primary_key=True)
    seq = BigInt()
    xid = BigInt()
    ledger_id = Integer()
    kind = SmallInt()
    debit_account_id = BigInt()
    credit_account_id = BigInt()
    amount = BigInt()
    code = Text()
    pending_id = UUID(null=True, default=None)
    reverses_id = UUID(null=True, default=None)
    timeout_s = Integer(null=True, default=None)
    value_date = Date()
    recorded_at = Timestamptz()
    metadata = JSONB()
    dr_debits_posted = BigInt()
    dr_credits_posted = BigInt()
    dr_debits_pending = BigInt()
    dr_credits_pending = BigInt()
    cr_debits_posted = BigInt()
    cr_credits_posted = BigInt()
    cr_debits_pending = BigInt()
    cr_credits_pending = BigInt()
    digest = Bytea()


class LedgerHold(Table, tablename="ledger_holds"):
    """An open pending transfer; deleted when it is posted, voided or expired."""

    pending_id = UUID(primary_key=True)
    ledger_id = Integer()
    debit_account_id = BigInt()
    credit_account_id = BigInt()
    amount = BigInt()
    expires_at = Timestamptz(null=True, default=None)


class LedgerBlock(Table, tablename="ledger_blocks"):
    """A sealed block of the hash chain: the transfers written by transactions in [xid_from, xid_to)."""

    height = BigInt(primary_key=True)
    xid_from = BigInt()
    xid_to = BigInt()
    transfers = Integer()
    transfers_hash = Bytea()
    prev_hash = Bytea()
    hash = Bytea()
    sealed_at = Timestamptz()
