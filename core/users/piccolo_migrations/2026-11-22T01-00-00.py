from core.db.migrations import sql_migration

ID = "2026-11-22T01:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Users, sessions, API tokens and daily activity"

SQL = """
CREATE TABLE users_users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'blocked', 'deleted')),
    -- lower-cased; the login for e-mail users
    email varchar(320),
    -- AES-GCM ciphertexts (core.access.pii) and keyed blind indexes for exact-match search
    phone_enc bytea,
    phone_bidx bytea,
    itn_enc bytea,
    itn_bidx bytea,
    passport_enc bytea,
    display_name varchar(200) NOT NULL DEFAULT '',
    locale varchar(8),
    password_hash text,
    password_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    confirmed_at timestamptz,
    last_login_at timestamptz,
    blocked_at timestamptz,
    blocked_reason text,
    deleted_at timestamptz,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    CHECK (status = 'deleted' OR email IS NOT NULL OR phone_bidx IS NOT NULL)
);
CREATE UNIQUE INDEX users_users_email ON users_users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_users_phone ON users_users (phone_bidx) WHERE phone_bidx IS NOT NULL;
CREATE INDEX users_users_itn ON users_users (itn_bidx) WHERE itn_bidx IS NOT NULL;
CREATE INDEX users_users_created ON users_users (created_at);
CREATE INDEX users_users_status ON users_users (status);

CREATE TABLE users_sessions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- SHA-256 of the cookie's token: a copy of this table signs nobody in
    token_hash bytea NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    csrf_token varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    ip varchar(64),
    user_agent varchar(300),
    revoked_at timestamptz
);
CREATE INDEX users_sessions_by_user ON users_sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE users_api_tokens (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    name varchar(100) NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    prefix varchar(16) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX users_api_tokens_by_user ON users_api_tokens (user_id);

CREATE TABLE users_activity (
    day date NOT NULL,
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    PRIMARY KEY (day, user_id)
);
"""


forwards = sql_migration(ID, "core_users", DESCRIPTION, SQL)
