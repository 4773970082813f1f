from core.db.migrations import sql_migration

ID = "2026-11-22T04:00:00"
VERSION = "1.38.0"
DESCRIPTION = "The development outbox"

SQL = """
CREATE TABLE notify_outbox_messages (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind varchar(200) NOT NULL,
    address_kind varchar(32) NOT NULL,
    address varchar(320) NOT NULL,
    subject text NOT NULL,
    text text NOT NULL,
    user_id uuid
);
CREATE INDEX notify_outbox_by_address ON notify_outbox_messages (address, id DESC);
"""


forwards = sql_migration(ID, "notify_outbox", DESCRIPTION, SQL)
