"""Tables of the payments plugin (created by ``piccolo_migrations/``; keep both in sync)."""

from piccolo.columns import JSONB, UUID, BigInt, Boolean, Bytea, Date, Integer, Text, Timestamptz, Varchar
from piccolo.columns.column_types import BigSerial
from piccolo.table import Table


class Payment(Table, tablename="payments_payments"):
    """A top-up, withdrawal or card charge, and where it stands."""

    id = UUID(primary_key=True)
    kind = Varchar(length=20)
    user_id = UUID()
    gateway = Varchar(length=100)
    amount_minor = BigInt()
    currency = Varchar(length=3)
    status = Varchar(length=30)
    description = Text()
    idempotency_key = Varchar(length=200, null=True, default=None)
    reference = Varchar(length=200)
    provider_status = Varchar(length=100)
    error_code = Varchar(length=100)
    error_message = Text()
    refunded_minor = BigInt()
    save_card = Boolean()
    card_id = UUID(null=True, default=None)
    destination = JSONB()
    destination_enc = Bytea(null=True, default=None)
    redirect = JSONB(null=True, default=None)
    purpose = Varchar(length=200)
    confirmation_ref = Varchar(length=200)
    needs_review = Boolean()
    review_reason = Text()
    approved_by = UUID(null=True, default=None)
    checks = Integer()
    next_check_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class PaymentEvent(Table, tablename="payments_events"):
    """The audit trail of a payment: every status change, callback verdict and admin action."""

    id = BigSerial(primary_key=True)
    payment_id = UUID(null=True, default=None)
    at = Timestamptz()
    event = Varchar(length=50)
    actor = Varchar(length=200)
    old_status = Varchar(length=30, null=True, default=None)
    new_status = Varchar(length=30, null=True, default=None)
    details = JSONB()


class ReceivedCallback(Table, tablename="payments_callbacks"):
    """Every callback that reached us, accepted or not, with the verdict."""

    id = BigSerial(primary_key=True)
    gateway = Varchar(length=100)
    received_at = Timestamptz()
    remote_addr = Varchar(length=100)
    payment_id = UUID(null=True, default=None)
    claimed_payment = Varchar(length=200)
    verdict = Varchar(length=30)
    reason = Text()
    body_sha256 = Varchar(length=64)
    body = Text()


class SavedCardRecord(Table, tablename="payments_cards"):
    """A card token the provider lets us charge again; the token is encrypted (``core.access`` PII cipher)."""

    id = UUID(primary_key=True)
    user_id = UUID()
    gateway = Varchar(length=100)
    token_enc = Bytea()
    token_bidx = Bytea()
    masked_pan = Varchar(length=40)
    brand = Varchar(length=40)
    expires = Varchar(length=10)
    source_payment_id = UUID(null=True, default=None)
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Reconciliation(Table, tablename="payments_reconciliations"):
    """One gateway's daily comparison of the provider, our records and the ledger."""

    id = BigSerial(primary_key=True)
    business_date = Date()
    gateway = Varchar(length=100)
    started_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    checked = Integer()
    differences = Integer()


class ReconciliationItem(Table, tablename="payments_reconciliation_items"):
    """One difference found by a reconciliation."""

    id = BigSerial(primary_key=True)
    reconciliation_id = BigInt()
    payment_id = UUID(null=True, default=None)
    kind = Varchar(length=50)
    ours = JSONB()
    provider = JSONB()
    ledger = JSONB()
    detail = Text()
