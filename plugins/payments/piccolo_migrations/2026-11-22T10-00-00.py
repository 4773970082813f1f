from core.db.migrations import sql_migration

ID = "2026-11-22T10:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Payments, their audit trail, callbacks received, saved cards, reconciliations"

SQL = """
CREATE TABLE payments_payments (
    id uuid PRIMARY KEY,
    kind varchar(20) NOT NULL CHECK (kind IN ('topup', 'withdrawal', 'charge')),
    user_id uuid NOT NULL,
    gateway varchar(100) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency varchar(3) NOT NULL,
    status varchar(30) NOT NULL,
    description text NOT NULL DEFAULT '',
    idempotency_key varchar(200),
    reference varchar(200) NOT NULL DEFAULT '',
    provider_status varchar(100) NOT NULL DEFAULT '',
    error_code varchar(100) NOT NULL DEFAULT '',
    error_message text NOT NULL DEFAULT '',
    refunded_minor bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    save_card boolean NOT NULL DEFAULT false,
    card_id uuid,
    destination jsonb NOT NULL DEFAULT '{}',
    destination_enc bytea,
    redirect jsonb,
    purpose varchar(200) NOT NULL DEFAULT '',
    confirmation_ref varchar(200) NOT NULL DEFAULT '',
    needs_review boolean NOT NULL DEFAULT false,
    review_reason text NOT NULL DEFAULT '',
    approved_by uuid,
    checks integer NOT NULL DEFAULT 0,
    next_check_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE UNIQUE INDEX payments_payments_idempotency ON payments_payments (user_id, kind, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX payments_payments_unsettled ON payments_payments (next_check_at)
    WHERE status IN ('pending', 'unknown', 'approved');
CREATE INDEX payments_payments_by_user ON payments_payments (user_id, created_at DESC);
CREATE INDEX payments_payments_by_gateway ON payments_payments (gateway, created_at);
CREATE INDEX payments_payments_review ON payments_payments (created_at) WHERE needs_review;

CREATE TABLE payments_events (
    id bigserial PRIMARY KEY,
    payment_id uuid REFERENCES payments_payments (id),
    at timestamptz NOT NULL DEFAULT now(),
    event varchar(50) NOT NULL,
    actor varchar(200) NOT NULL DEFAULT '',
    old_status varchar(30),
    new_status varchar(30),
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX payments_events_by_payment ON payments_events (payment_id, id);

CREATE TABLE payments_callbacks (
    id bigserial PRIMARY KEY,
    gateway varchar(100) NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    remote_addr varchar(100) NOT NULL DEFAULT '',
    payment_id uuid,
    claimed_payment varchar(200) NOT NULL DEFAULT '',
    verdict varchar(30) NOT NULL,
    reason text NOT NULL DEFAULT '',
    body_sha256 varchar(64) NOT NULL,
    body text NOT NULL DEFAULT ''
);
CREATE INDEX payments_callbacks_recent ON payments_callbacks (received_at DESC);
CREATE INDEX payments_callbacks_by_payment ON payments_callbacks (payment_id);

CREATE TABLE payments_cards (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    gateway varchar(100) NOT NULL,
    token_enc bytea NOT NULL,
    token_bidx bytea NOT NULL,
    masked_pan varchar(40) NOT NULL DEFAULT '',
    brand varchar(40) NOT NULL DEFAULT '',
    expires varchar(10) NOT NULL DEFAULT '',
    source_payment_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz,
    UNIQUE (user_id, gateway, token_bidx)
);
CREATE INDEX payments_cards_by_user ON payments_cards (user_id) WHERE revoked_at IS NULL;

CREATE TABLE payments_reconciliations (
    id bigserial PRIMARY KEY,
    business_date date NOT NULL,
    gateway varchar(100) NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    checked integer NOT NULL DEFAULT 0,
    differences integer NOT NULL DEFAULT 0,
    UNIQUE (business_date, gateway)
);

CREATE TABLE payments_reconciliation_items (
    id bigserial PRIMARY KEY,
    reconciliation_id bigint NOT NULL REFERENCES payments_reconciliations (id) ON DELETE CASCADE,
    payment_id uuid,
    kind varchar(50) NOT NULL,
    ours jsonb NOT NULL DEFAULT '{}',
    provider jsonb NOT NULL DEFAULT '{}',
    ledger jsonb NOT NULL DEFAULT '{}',
    detail text NOT NULL DEFAULT ''
);
CREATE INDEX payments_reconciliation_items_by_run ON payments_reconciliation_items (reconciliation_id);
"""


forwards = sql_migration(ID, "payments", DESCRIPTION, SQL)
