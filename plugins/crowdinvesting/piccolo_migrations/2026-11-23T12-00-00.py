from core.db.migrations import sql_migration

ID = "2026-11-23T12:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Crowdinvesting: terms, investors and their yearly totals, investments, income, certificates, referrals"

SQL = """
CREATE TABLE crowd_terms (
    project_id uuid PRIMARY KEY REFERENCES projects_projects (id),
    min_investment_minor bigint NOT NULL CHECK (min_investment_minor > 0),
    max_per_investor_minor bigint CHECK (max_per_investor_minor IS NULL OR max_per_investor_minor >= min_investment_minor),
    expected_yield_bp integer NOT NULL DEFAULT 0 CHECK (expected_yield_bp BETWEEN 0 AND 100000),
    term_months integer NOT NULL DEFAULT 12 CHECK (term_months BETWEEN 1 AND 600),
    payout_period varchar(20) NOT NULL DEFAULT 'quarter' CHECK (payout_period IN ('month', 'quarter', 'year', 'end')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE crowd_investors (
    user_id uuid PRIMARY KEY,
    wallet_account_id bigint,
    qualified boolean NOT NULL DEFAULT false,
    qualified_until date,
    qualified_by uuid,
    qualified_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The 259-FZ counters: one row per investor and calendar year, one per project and year.
-- Every investment locks and moves them in its own transaction.
CREATE TABLE crowd_investor_years (
    user_id uuid NOT NULL,
    year integer NOT NULL,
    invested_minor bigint NOT NULL DEFAULT 0 CHECK (invested_minor >= 0),
    declared_elsewhere_minor bigint NOT NULL DEFAULT 0 CHECK (declared_elsewhere_minor >= 0),
    PRIMARY KEY (user_id, year)
) WITH (fillfactor = 80);

CREATE TABLE crowd_project_years (
    project_id uuid NOT NULL REFERENCES projects_projects (id),
    year integer NOT NULL,
    raised_minor bigint NOT NULL DEFAULT 0 CHECK (raised_minor >= 0),
    PRIMARY KEY (project_id, year)
) WITH (fillfactor = 70);

CREATE TABLE crowd_investments (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    project_id uuid NOT NULL REFERENCES projects_projects (id),
    stage_id uuid NOT NULL REFERENCES projects_stages (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency char(3) NOT NULL,
    source varchar(20) NOT NULL DEFAULT 'wallet' CHECK (source IN ('wallet', 'certificate')),
    certificate_id uuid,
    status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'refunded')),
    year integer NOT NULL,
    idempotency_key varchar(100),
    transfer_id uuid NOT NULL UNIQUE,
    refund_transfer_id uuid UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    refunded_at timestamptz,
    UNIQUE (user_id, idempotency_key),
    CHECK (status = 'active' OR refund_transfer_id IS NOT NULL),
    CHECK ((source = 'certificate') = (certificate_id IS NOT NULL))
);
CREATE INDEX crowd_investments_stage ON crowd_investments (stage_id, created_at);
CREATE INDEX crowd_investments_user ON crowd_investments (user_id, created_at);
CREATE INDEX crowd_investments_project_active ON crowd_investments (project_id, user_id) WHERE status = 'active';

CREATE TABLE crowd_distributions (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects_projects (id),
    stage_id uuid REFERENCES projects_stages (id),
    period varchar(40) NOT NULL CHECK (period <> ''),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency char(3) NOT NULL,
    base_minor bigint NOT NULL CHECK (base_minor > 0),
    investors integer NOT NULL CHECK (investors > 0),
    note text NOT NULL DEFAULT '',
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- One distribution per project (or stage) and period: posting it again creates nothing.
CREATE UNIQUE INDEX crowd_distributions_once
    ON crowd_distributions (project_id, coalesce(stage_id, '00000000-0000-0000-0000-000000000000'::uuid), period);

-- Written 100,000 rows at a time with COPY, in the transaction that writes their distribution:
-- no foreign key (a per-row trigger would cost more than the copy) and no second unique index
-- (a payout's transfer id is derived from its primary key, so it is unique already).
CREATE TABLE crowd_payouts (
    distribution_id uuid NOT NULL,
    user_id uuid NOT NULL,
    contribution_minor bigint NOT NULL CHECK (contribution_minor > 0),
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    transfer_id uuid,
    PRIMARY KEY (distribution_id, user_id),
    CHECK ((amount_minor = 0) = (transfer_id IS NULL))
);
CREATE INDEX crowd_payouts_user ON crowd_payouts (user_id);

CREATE TABLE crowd_certificates (
    id uuid PRIMARY KEY,
    code_hash char(64) NOT NULL UNIQUE,
    code_hint varchar(8) NOT NULL,
    buyer_id uuid NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency char(3) NOT NULL,
    account_id bigint NOT NULL,
    recipient_name varchar(200) NOT NULL DEFAULT '',
    message text NOT NULL DEFAULT '',
    status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'redeemed', 'expired')),
    idempotency_key varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    redeemed_by uuid,
    redeemed_at timestamptz,
    investment_id uuid REFERENCES crowd_investments (id),
    expired_at timestamptz,
    UNIQUE (buyer_id, idempotency_key),
    CHECK (status <> 'redeemed' OR (redeemed_by IS NOT NULL AND investment_id IS NOT NULL)),
    CHECK (expires_at > created_at)
);
CREATE INDEX crowd_certificates_buyer ON crowd_certificates (buyer_id, created_at);
CREATE INDEX crowd_certificates_due ON crowd_certificates (expires_at) WHERE status = 'active';

CREATE TABLE crowd_referral_codes (
    user_id uuid PRIMARY KEY,
    code varchar(20) NOT NULL UNIQUE
);

CREATE TABLE crowd_referrals (
    referred_id uuid PRIMARY KEY,
    referrer_id uuid NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'rewarded', 'unfunded', 'ineligible')),
    reason text NOT NULL DEFAULT '',
    first_investment_id uuid REFERENCES crowd_investments (id),
    referrer_bonus_minor bigint NOT NULL DEFAULT 0,
    referred_bonus_minor bigint NOT NULL DEFAULT 0,
    year integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    rewarded_at timestamptz,
    CHECK (referrer_id <> referred_id)
);
CREATE INDEX crowd_referrals_referrer ON crowd_referrals (referrer_id, status);
"""


forwards = sql_migration(ID, "crowdinvesting", DESCRIPTION, SQL)
