from core.db.migrations import sql_migration

ID = "2026-11-22T02:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Roles, maker-checker approvals, the append-only audit log, confirmations and rate limits"

SQL = """
CREATE TABLE access_roles (
    code varchar(64) PRIMARY KEY,
    name varchar(200) NOT NULL,
    description text NOT NULL DEFAULT '',
    rank integer NOT NULL DEFAULT 1000,
    builtin boolean NOT NULL DEFAULT false,
    -- a superadmin edited it: start-up no longer adds matching permissions
    customized boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE access_role_permissions (
    role_code varchar(64) NOT NULL REFERENCES access_roles (code) ON DELETE CASCADE,
    permission varchar(200) NOT NULL,
    PRIMARY KEY (role_code, permission)
);

CREATE TABLE access_user_roles (
    user_id uuid NOT NULL REFERENCES users_users (id) ON DELETE CASCADE,
    role_code varchar(64) NOT NULL REFERENCES access_roles (code) ON DELETE CASCADE,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (user_id, role_code)
);
CREATE INDEX access_user_roles_by_role ON access_user_roles (role_code);

CREATE TABLE access_approvals (
    id uuid PRIMARY KEY,
    action varchar(200) NOT NULL,
    permission varchar(200) NOT NULL,
    payload jsonb NOT NULL,
    summary text NOT NULL,
    reason text NOT NULL DEFAULT '',
    status varchar(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'executed', 'failed', 'rejected', 'cancelled', 'expired')),
    maker_id uuid NOT NULL,
    checker_id uuid,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    decided_at timestamptz,
    decision_note text NOT NULL DEFAULT '',
    result jsonb,
    -- four eyes: whoever asked cannot be the one who approves
    CHECK (status NOT IN ('executed', 'failed') OR checker_id IS DISTINCT FROM maker_id)
);
CREATE INDEX access_approvals_pending ON access_approvals (created_at) WHERE status = 'pending';

CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id uuid,
    actor varchar(200) NOT NULL,
    action varchar(200) NOT NULL,
    target varchar(300) NOT NULL DEFAULT '',
    details jsonb NOT NULL DEFAULT '{}',
    ip varchar(64),
    request_id varchar(64)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_action ON audit_log (action text_pattern_ops, id);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

CREATE TABLE access_confirmations (
    id uuid PRIMARY KEY,
    user_id uuid,
    purpose varchar(200) NOT NULL,
    -- SHA-256 of the purpose and the canonical payload: the code confirms exactly this
    subject_hash bytea NOT NULL,
    -- HMAC of the code under a key derived from the deployment secret
    code_hash bytea NOT NULL,
    sent_to varchar(200) NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    consumed_at timestamptz
);
CREATE INDEX access_confirmations_expiry ON access_confirmations (expires_at);

CREATE TABLE access_rate_limits (
    key varchar(300) PRIMARY KEY,
    window_start timestamptz NOT NULL,
    window_s integer NOT NULL,
    hits integer NOT NULL
);
"""


forwards = sql_migration(ID, "core_access", DESCRIPTION, SQL)
