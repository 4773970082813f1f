from core.db.migrations import sql_migration

ID = "2026-11-24T09:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Cash terminals, what their devices reported, deposit codes, kiosk sessions, collections"

SQL = """
CREATE TABLE terminals_terminals (
    id varchar(40) PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    title varchar(200) NOT NULL DEFAULT '',
    driver varchar(100) NOT NULL,
    port varchar(500) NOT NULL,
    location text NOT NULL DEFAULT '',
    currency varchar(3) NOT NULL,
    denominations bigint[] NOT NULL,
    active boolean NOT NULL DEFAULT true,
    kiosk_key_hash bytea NOT NULL,
    version integer NOT NULL DEFAULT 1,
    status varchar(20) NOT NULL DEFAULT 'offline' CHECK (status IN ('offline', 'online', 'fault')),
    status_detail text NOT NULL DEFAULT '',
    device_state varchar(100) NOT NULL DEFAULT '',
    device_info jsonb NOT NULL DEFAULT '{}',
    lease_owner varchar(200),
    lease_until timestamptz,
    last_seen_at timestamptz,
    offline_reported boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE terminals_events (
    id bigserial PRIMARY KEY,
    terminal_id varchar(40) NOT NULL REFERENCES terminals_terminals (id),
    event_id varchar(100) NOT NULL,
    kind varchar(20) NOT NULL CHECK (kind IN ('stacked', 'returned', 'rejected', 'fault', 'state', 'line')),
    detail varchar(300) NOT NULL DEFAULT '',
    amount_minor bigint CHECK (amount_minor > 0),
    currency varchar(3),
    session_id uuid,
    user_id uuid,
    credited_to varchar(20) NOT NULL DEFAULT '' CHECK (credited_to IN ('', 'customer', 'unclaimed', 'review')),
    transfer_id uuid,
    acknowledged_at timestamptz,
    assigned_to uuid,
    assigned_at timestamptz,
    at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (terminal_id, event_id)
);
CREATE INDEX terminals_events_by_terminal ON terminals_events (terminal_id, id DESC);
CREATE INDEX terminals_events_faults ON terminals_events (terminal_id, id DESC) WHERE kind IN ('fault', 'line');
CREATE INDEX terminals_events_unacknowledged ON terminals_events (terminal_id, id)
    WHERE kind = 'stacked' AND acknowledged_at IS NULL;
CREATE INDEX terminals_events_unclaimed ON terminals_events (terminal_id, id)
    WHERE credited_to IN ('unclaimed', 'review') AND assigned_to IS NULL;

CREATE TABLE terminals_deposit_codes (
    code_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX terminals_deposit_codes_by_user ON terminals_deposit_codes (user_id);

CREATE TABLE terminals_sessions (
    id uuid PRIMARY KEY,
    terminal_id varchar(40) NOT NULL REFERENCES terminals_terminals (id),
    user_id uuid NOT NULL,
    currency varchar(3) NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    end_reason varchar(30) NOT NULL DEFAULT '',
    notes integer NOT NULL DEFAULT 0,
    total_minor bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX terminals_sessions_open ON terminals_sessions (terminal_id) WHERE ended_at IS NULL;
CREATE INDEX terminals_sessions_by_terminal ON terminals_sessions (terminal_id, started_at DESC);
CREATE INDEX terminals_sessions_by_user ON terminals_sessions (user_id, started_at DESC);

CREATE TABLE terminals_collections (
    id uuid PRIMARY KEY,
    number bigserial UNIQUE,
    terminal_id varchar(40) NOT NULL REFERENCES terminals_terminals (id),
    collected_at timestamptz NOT NULL DEFAULT now(),
    recorded_by uuid,
    collector varchar(200) NOT NULL DEFAULT '',
    seal varchar(100) NOT NULL DEFAULT '',
    note text NOT NULL DEFAULT '',
    currency varchar(3) NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    notes integer NOT NULL DEFAULT 0,
    breakdown jsonb NOT NULL DEFAULT '{}',
    last_event_id bigint NOT NULL DEFAULT 0,
    transfer_id uuid
);
CREATE INDEX terminals_collections_by_terminal ON terminals_collections (terminal_id, number DESC);
"""


forwards = sql_migration(ID, "terminals", DESCRIPTION, SQL)
