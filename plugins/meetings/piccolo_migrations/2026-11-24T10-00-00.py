from core.db.migrations import sql_migration

ID = "2026-11-24T10:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Meetings of creditors: cases, the register of claims, meetings, agenda, vote base, journal, ballots, events, protocols"

SQL = """
CREATE TABLE meetings_cases (
    id uuid PRIMARY KEY,
    number varchar(60) NOT NULL UNIQUE CHECK (number <> ''),
    court varchar(200) NOT NULL DEFAULT '',
    debtor_name varchar(300) NOT NULL CHECK (debtor_name <> ''),
    debtor_kind varchar(10) NOT NULL CHECK (debtor_kind IN ('company', 'person')),
    debtor_itn varchar(12) NOT NULL DEFAULT '',
    debtor_address text NOT NULL DEFAULT '',
    stage varchar(30) NOT NULL CHECK (stage IN ('observation', 'rehabilitation', 'external_administration',
                                                'liquidation', 'restructuring', 'realization')),
    organizer_id uuid NOT NULL,
    organizer_name varchar(300) NOT NULL DEFAULT '',
    currency char(3) NOT NULL DEFAULT 'RUB',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meetings_cases_organizer ON meetings_cases (organizer_id, created_at);

-- The register of claims (реестр требований кредиторов) as far as the meetings need it.
CREATE TABLE meetings_claims (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES meetings_cases (id),
    creditor_name varchar(300) NOT NULL CHECK (creditor_name <> ''),
    creditor_kind varchar(20) NOT NULL CHECK (creditor_kind IN ('creditor', 'authority')),
    creditor_itn varchar(12) NOT NULL DEFAULT '',
    -- the creditor's own account, when the organizer knows it (identity check)
    user_id uuid,
    -- the e-mail or phone given in the claim: one-time codes for registration go there (encrypted)
    contact_kind varchar(10) CHECK (contact_kind IN ('email', 'phone')),
    contact_enc bytea,
    principal_minor bigint NOT NULL CHECK (principal_minor >= 0),
    penalty_minor bigint NOT NULL DEFAULT 0 CHECK (penalty_minor >= 0),
    secured_minor bigint NOT NULL DEFAULT 0 CHECK (secured_minor >= 0 AND secured_minor <= principal_minor),
    pledge_waived boolean NOT NULL DEFAULT false,
    late boolean NOT NULL DEFAULT false,
    court_act text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((contact_kind IS NULL) = (contact_enc IS NULL))
);
CREATE INDEX meetings_claims_case ON meetings_claims (case_id, creditor_name);
CREATE INDEX meetings_claims_user ON meetings_claims (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE meetings_meetings (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES meetings_cases (id),
    title varchar(300) NOT NULL CHECK (title <> ''),
    form varchar(20) NOT NULL CHECK (form IN ('in_person', 'absentee')),
    convened_by varchar(20) NOT NULL DEFAULT 'manager' CHECK (convened_by IN ('manager', 'committee', 'creditors')),
    grounds text NOT NULL DEFAULT '',
    starts_at timestamptz NOT NULL,
    -- in person: voting ends by then at the latest; absentee: the deadline for ballots
    closes_at timestamptz NOT NULL,
    place text NOT NULL DEFAULT '',
    materials text NOT NULL DEFAULT '',
    notice_method varchar(20) NOT NULL CHECK (notice_method IN ('post', 'electronic', 'efrsb')),
    ballot_visibility varchar(10) NOT NULL DEFAULT 'open' CHECK (ballot_visibility IN ('open', 'closed')),
    status varchar(20) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'convened', 'open', 'closed', 'not_held', 'cancelled')),
    created_by uuid NOT NULL,
    convened_at timestamptz,
    opened_at timestamptz,
    closed_at timestamptz,
    -- SHA-256 of the frozen vote base; printed in the protocol
    base_sha256 char(64),
    quorum jsonb,
    last_seq integer NOT NULL DEFAULT 0,
    head_hash char(64) NOT NULL DEFAULT repeat('0', 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (closes_at >= starts_at),
    CHECK (status = 'draft' OR status = 'cancelled' OR base_sha256 IS NOT NULL)
);
CREATE INDEX meetings_meetings_case ON meetings_meetings (case_id, starts_at);
CREATE INDEX meetings_meetings_due ON meetings_meetings (closes_at) WHERE status IN ('convened', 'open');

CREATE TABLE meetings_items (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings_meetings (id),
    position integer NOT NULL CHECK (position > 0),
    question text NOT NULL CHECK (question <> ''),
    decision varchar(40) NOT NULL,
    form jsonb NOT NULL,
    draft_resolution text NOT NULL DEFAULT '',
    document_key varchar(200),
    document_name varchar(200),
    result jsonb,
    UNIQUE (meeting_id, position)
);

-- The vote base: the register frozen when the meeting is convened. Weights are a pure function of it.
CREATE TABLE meetings_vote_base (
    meeting_id uuid NOT NULL REFERENCES meetings_meetings (id),
    claim_id uuid NOT NULL REFERENCES meetings_claims (id),
    creditor_name varchar(300) NOT NULL,
    principal_minor bigint NOT NULL,
    penalty_minor bigint NOT NULL,
    secured_minor bigint NOT NULL,
    pledge_waived boolean NOT NULL,
    late boolean NOT NULL,
    notified boolean NOT NULL DEFAULT true,
    weight_minor bigint NOT NULL CHECK (weight_minor >= 0 AND weight_minor <= principal_minor),
    PRIMARY KEY (meeting_id, claim_id)
);

-- The registration journal (Приказ МЭР №235 form): who takes part for which creditor, how they were checked.
CREATE TABLE meetings_participants (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings_meetings (id),
    claim_id uuid NOT NULL REFERENCES meetings_claims (id),
    user_id uuid NOT NULL,
    role varchar(20) NOT NULL CHECK (role IN ('creditor', 'representative')),
    method varchar(30) NOT NULL CHECK (method IN ('identity', 'power_of_attorney', 'code', 'video')),
    status varchar(20) NOT NULL CHECK (status IN ('pending', 'admitted', 'rejected')),
    settlement_authority boolean NOT NULL DEFAULT false,
    poa_key varchar(200),
    poa_name varchar(200),
    poa_sha256 char(64),
    review_note text NOT NULL DEFAULT '',
    reviewed_by uuid,
    reviewed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    admitted_at timestamptz,
    joined_at timestamptz,
    left_at timestamptz,
    CHECK (method <> 'power_of_attorney' OR poa_key IS NOT NULL)
);
CREATE UNIQUE INDEX meetings_participants_one_admitted ON meetings_participants (meeting_id, claim_id)
    WHERE status = 'admitted';
CREATE UNIQUE INDEX meetings_participants_one_pending ON meetings_participants (meeting_id, claim_id, user_id)
    WHERE status = 'pending';
CREATE INDEX meetings_participants_user ON meetings_participants (user_id, meeting_id);

-- Ballots: append-only. A creditor has one counted ballot per item; a paper ballot that came after
-- the deadline is kept (marked late) and never counted.
CREATE TABLE meetings_ballots (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL REFERENCES meetings_meetings (id),
    item_id uuid NOT NULL REFERENCES meetings_items (id),
    claim_id uuid NOT NULL REFERENCES meetings_claims (id),
    participant_id uuid REFERENCES meetings_participants (id),
    cast_by uuid NOT NULL,
    choice jsonb NOT NULL,
    opinion text NOT NULL DEFAULT '',
    weight_minor bigint NOT NULL CHECK (weight_minor >= 0),
    confirmation_id uuid,
    source varchar(10) NOT NULL CHECK (source IN ('online', 'paper')),
    received_at timestamptz NOT NULL,
    late boolean NOT NULL DEFAULT false,
    event_seq integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (source = 'paper' OR confirmation_id IS NOT NULL)
);
CREATE UNIQUE INDEX meetings_ballots_once ON meetings_ballots (item_id, claim_id) WHERE NOT late;
CREATE INDEX meetings_ballots_meeting ON meetings_ballots (meeting_id, claim_id);

-- What happened, as a hash chain per meeting: each event's hash covers the previous one.
CREATE TABLE meetings_events (
    meeting_id uuid NOT NULL REFERENCES meetings_meetings (id),
    seq integer NOT NULL CHECK (seq > 0),
    kind varchar(40) NOT NULL,
    payload jsonb NOT NULL,
    actor varchar(100) NOT NULL,
    at timestamptz NOT NULL,
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL,
    PRIMARY KEY (meeting_id, seq)
);

CREATE FUNCTION meetings_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER meetings_ballots_append_only BEFORE UPDATE OR DELETE ON meetings_ballots
    FOR EACH ROW EXECUTE FUNCTION meetings_append_only();
CREATE TRIGGER meetings_ballots_no_truncate BEFORE TRUNCATE ON meetings_ballots
    FOR EACH STATEMENT EXECUTE FUNCTION meetings_append_only();
CREATE TRIGGER meetings_events_append_only BEFORE UPDATE OR DELETE ON meetings_events
    FOR EACH ROW EXECUTE FUNCTION meetings_append_only();
CREATE TRIGGER meetings_events_no_truncate BEFORE TRUNCATE ON meetings_events
    FOR EACH STATEMENT EXECUTE FUNCTION meetings_append_only();

CREATE TABLE meetings_protocols (
    id uuid PRIMARY KEY,
    meeting_id uuid NOT NULL UNIQUE REFERENCES meetings_meetings (id),
    file_key varchar(200) NOT NULL,
    sha256 char(64) NOT NULL,
    size integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meetings_signatures (
    protocol_id uuid NOT NULL REFERENCES meetings_protocols (id),
    signer_id uuid NOT NULL,
    role varchar(20) NOT NULL CHECK (role IN ('organizer', 'participant')),
    method varchar(40) NOT NULL,
    sha256 char(64) NOT NULL,
    evidence jsonb NOT NULL,
    signed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (protocol_id, signer_id)
);
"""

forwards = sql_migration(ID, "meetings", DESCRIPTION, SQL)
