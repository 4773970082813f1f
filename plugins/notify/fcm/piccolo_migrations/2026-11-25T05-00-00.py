from core.db.migrations import sql_migration

ID = "2026-11-25T05:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Push devices, and which of them each delivery reached"

SQL = """
CREATE TABLE notify_fcm_devices (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    token varchar(1024) NOT NULL UNIQUE,
    platform varchar(16) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_sent_at timestamptz
);
CREATE INDEX notify_fcm_devices_by_user ON notify_fcm_devices (user_id, id);

CREATE TABLE notify_fcm_sends (
    delivery_id uuid NOT NULL,
    device_id bigint NOT NULL REFERENCES notify_fcm_devices (id) ON DELETE CASCADE,
    message_name text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (delivery_id, device_id)
);
CREATE INDEX notify_fcm_sends_by_time ON notify_fcm_sends (sent_at);
"""


forwards = sql_migration(ID, "notify_fcm", DESCRIPTION, SQL)
