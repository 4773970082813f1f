from core.db.migrations import sql_migration

ID = "2026-11-22T03:00:00"
VERSION = "1.38.0"
DESCRIPTION = "In-app notifications and message deliveries"

SQL = """
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    kind varchar(200) NOT NULL,
    params jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at timestamptz
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notifications_deliveries (
    id uuid PRIMARY KEY,
    user_id uuid REFERENCES users_users (id) ON DELETE SET NULL,
    kind varchar(200) NOT NULL,
    address_kind varchar(32) NOT NULL,
    address_masked varchar(100) NOT NULL DEFAULT '',
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'retry', 'sent', 'failed', 'expired', 'undeliverable', 'cancelled')),
    attempts integer NOT NULL DEFAULT 0,
    channel varchar(100),
    provider_ref varchar(200),
    last_error text,
    -- the rendered message, AES-GCM encrypted; wiped once delivery is over
    payload_enc bytea,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    claimed_at timestamptz,
    next_attempt_at timestamptz,
    expires_at timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX notifications_deliveries_due ON notifications_deliveries (status, next_attempt_at)
    WHERE status IN ('pending', 'sending', 'retry');
CREATE INDEX notifications_deliveries_by_user ON notifications_deliveries (user_id, created_at DESC);
"""


forwards = sql_migration(ID, "core_notifications", DESCRIPTION, SQL)
