from core.db.migrations import sql_migration

ID = "2026-11-24T09:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Identity submissions and the append-only history of their checks"

SQL = """
CREATE TABLE kyc_submissions (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    state varchar(16) NOT NULL CHECK (state IN ('checking', 'review', 'verified', 'rejected', 'superseded')),
    -- a recheck starts a new round; the runner reads only the current round's results
    round integer NOT NULL DEFAULT 1,
    checks text[] NOT NULL,
    documents text[] NOT NULL,
    -- why a person must look at it whatever the checks say ('duplicate_passport', ...)
    flags text[] NOT NULL DEFAULT '{}',
    person_enc bytea,
    itn_enc bytea,
    itn_bidx bytea,
    passport_enc bytea,
    passport_bidx bytea,
    snils_enc bytea,
    snils_bidx bytea,
    consent_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- when the runner looks at a submission in 'checking' again (also its claim: pushed ahead while it runs)
    next_attempt_at timestamptz,
    decided_at timestamptz,
    decided_by uuid,
    decision_reason text,
    erased_at timestamptz
);
-- one current submission per customer: a new one supersedes the old in the same transaction
CREATE UNIQUE INDEX kyc_submissions_current ON kyc_submissions (user_id) WHERE state <> 'superseded';
CREATE INDEX kyc_submissions_user ON kyc_submissions (user_id, created_at DESC);
CREATE INDEX kyc_submissions_due ON kyc_submissions (next_attempt_at) WHERE state = 'checking';
CREATE INDEX kyc_submissions_queue ON kyc_submissions (state, updated_at, id);
CREATE INDEX kyc_submissions_itn ON kyc_submissions (itn_bidx) WHERE itn_bidx IS NOT NULL;
CREATE INDEX kyc_submissions_passport ON kyc_submissions (passport_bidx) WHERE passport_bidx IS NOT NULL;
CREATE INDEX kyc_submissions_snils ON kyc_submissions (snils_bidx) WHERE snils_bidx IS NOT NULL;

CREATE TABLE kyc_check_results (
    id bigserial PRIMARY KEY,
    submission_id uuid NOT NULL REFERENCES kyc_submissions (id),
    round integer NOT NULL,
    check_name varchar(100) NOT NULL,
    attempt integer NOT NULL CHECK (attempt > 0),
    status varchar(10) NOT NULL CHECK (status IN ('passed', 'failed', 'pending', 'error')),
    reasons text[] NOT NULL DEFAULT '{}',
    reference varchar(500) NOT NULL DEFAULT '',
    retry_at timestamptz,
    details_enc bytea,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX kyc_check_results_submission ON kyc_check_results (submission_id, round, check_name, id DESC);

-- History is append-only. The one change allowed is to the ciphertext: key rotation
-- re-encrypts it, and the retention job erases it (sets it NULL).
CREATE FUNCTION kyc_check_results_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - 'details_enc') = (to_jsonb(OLD) - 'details_enc') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'kyc_check_results is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER kyc_check_results_no_change BEFORE UPDATE OR DELETE ON kyc_check_results
    FOR EACH ROW EXECUTE FUNCTION kyc_check_results_append_only();
CREATE TRIGGER kyc_check_results_no_truncate BEFORE TRUNCATE ON kyc_check_results
    FOR EACH STATEMENT EXECUTE FUNCTION kyc_check_results_append_only();
"""


forwards = sql_migration(ID, "kyc", DESCRIPTION, SQL)
