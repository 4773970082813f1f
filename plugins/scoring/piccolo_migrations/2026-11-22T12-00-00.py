from core.db.migrations import sql_migration

ID = "2026-11-22T12:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Scoring inquiries and their results (append-only), the polling queue, decisions"

SQL = """
-- Rows of the record tables are never changed or removed. The one exception is re-encryption
-- of their personal data under a new key (kopilka pii rotate / reindex): an UPDATE may change
-- only the columns named in the trigger's arguments.
CREATE FUNCTION scoring_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - TG_ARGV::text[]) = (to_jsonb(OLD) - TG_ARGV::text[]) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE scoring_inquiries (
    id uuid PRIMARY KEY,
    provider varchar(100) NOT NULL,
    -- the caller's id of this inquiry: asking twice with it never asks the provider twice
    request_id varchar(200) NOT NULL CHECK (btrim(request_id) <> ''),
    -- what the inquiry is for (a loan application...), for finding it again
    reference varchar(200) NOT NULL DEFAULT '',
    report_type varchar(50) NOT NULL DEFAULT '',
    -- the applicant, encrypted (PiiCipher), and a blind index of who they are (cache, search)
    applicant_enc bytea NOT NULL,
    subject_bidx bytea NOT NULL,
    consent_ref varchar(200) NOT NULL CHECK (btrim(consent_ref) <> ''),
    amount_minor bigint CHECK (amount_minor > 0),
    currency varchar(3),
    term_days integer CHECK (term_days > 0),
    -- the earlier inquiry whose report this one reuses (no call to the provider)
    cached_from uuid REFERENCES scoring_inquiries (id),
    -- the platform user the inquiry is about, when the caller said so
    user_id uuid,
    requested_by varchar(200) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((amount_minor IS NULL) = (currency IS NULL)),
    UNIQUE (provider, request_id)
);
CREATE INDEX scoring_inquiries_recent ON scoring_inquiries (created_at DESC);
CREATE INDEX scoring_inquiries_by_reference ON scoring_inquiries (reference) WHERE reference <> '';
CREATE INDEX scoring_inquiries_by_subject ON scoring_inquiries (subject_bidx, provider, created_at DESC);
CREATE INDEX scoring_inquiries_by_user ON scoring_inquiries (user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX scoring_inquiries_followers ON scoring_inquiries (cached_from) WHERE cached_from IS NOT NULL;
CREATE TRIGGER scoring_inquiries_append_only BEFORE UPDATE OR DELETE ON scoring_inquiries
    FOR EACH ROW EXECUTE FUNCTION scoring_append_only('applicant_enc', 'subject_bidx');
CREATE TRIGGER scoring_inquiries_no_truncate BEFORE TRUNCATE ON scoring_inquiries
    FOR EACH STATEMENT EXECUTE FUNCTION scoring_append_only();

-- Every answer an inquiry got, in order: the provider's, a poll's, or one copied from the cache.
CREATE TABLE scoring_results (
    id bigserial PRIMARY KEY,
    inquiry_id uuid NOT NULL REFERENCES scoring_inquiries (id),
    attempt integer NOT NULL CHECK (attempt > 0),
    source varchar(20) NOT NULL CHECK (source IN ('provider', 'poll', 'cache', 'system')),
    status varchar(20) NOT NULL CHECK (status IN ('done', 'no_data', 'pending', 'error')),
    score integer,
    provider_decision varchar(20) CHECK (provider_decision IN ('approve', 'decline', 'review')),
    report_ref varchar(200) NOT NULL DEFAULT '',
    error_code varchar(100) NOT NULL DEFAULT '',
    error text NOT NULL DEFAULT '',
    retryable boolean NOT NULL DEFAULT false,
    -- details, factors and the provider's document, encrypted: a report is personal data
    report_enc bytea,
    duration_ms integer,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX scoring_results_by_inquiry ON scoring_results (inquiry_id, id DESC);
CREATE TRIGGER scoring_results_append_only BEFORE UPDATE OR DELETE ON scoring_results
    FOR EACH ROW EXECUTE FUNCTION scoring_append_only('report_enc');
CREATE TRIGGER scoring_results_no_truncate BEFORE TRUNCATE ON scoring_results
    FOR EACH STATEMENT EXECUTE FUNCTION scoring_append_only();

-- Inquiries still waiting for an answer: pending ones to poll, and calls in flight (report_ref
-- ''), asked again if they never came back. A worker claims a row before asking the provider.
CREATE TABLE scoring_polls (
    inquiry_id uuid PRIMARY KEY REFERENCES scoring_inquiries (id),
    report_ref varchar(200) NOT NULL DEFAULT '',
    polls integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL,
    claimed_until timestamptz,
    give_up_at timestamptz NOT NULL
);
CREATE INDEX scoring_polls_due ON scoring_polls (next_at);

-- Decisions made by the policy for an application, with their reasons (no personal data).
CREATE TABLE scoring_decisions (
    id uuid PRIMARY KEY,
    reference varchar(200) NOT NULL,
    outcome varchar(20) NOT NULL CHECK (outcome IN ('approve', 'review', 'decline')),
    reasons jsonb NOT NULL,
    inquiry_ids uuid[] NOT NULL,
    result_ids bigint[] NOT NULL,
    policy_digest varchar(64) NOT NULL,
    decided_by varchar(200) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (reference, policy_digest, result_ids)
);
CREATE INDEX scoring_decisions_by_reference ON scoring_decisions (reference, created_at DESC);
CREATE TRIGGER scoring_decisions_append_only BEFORE UPDATE OR DELETE ON scoring_decisions
    FOR EACH ROW EXECUTE FUNCTION scoring_append_only();
CREATE TRIGGER scoring_decisions_no_truncate BEFORE TRUNCATE ON scoring_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION scoring_append_only();
"""


forwards = sql_migration(ID, "scoring", DESCRIPTION, SQL)
