from core.db.migrations import sql_migration

ID = "2026-11-22T04:30:00"
VERSION = "1.38.0"
DESCRIPTION = "Lending: products, applications, loans with their schedules and payments"

SQL = """
CREATE TABLE lending_products (
    id uuid PRIMARY KEY,
    code varchar(40) NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]*$'),
    name text NOT NULL CHECK (name <> ''),
    audience varchar(10) NOT NULL DEFAULT 'any' CHECK (audience IN ('any', 'first', 'repeat')),
    schedule_kind varchar(20) NOT NULL DEFAULT 'single'
        CHECK (schedule_kind IN ('single', 'annuity', 'equal_principal')),
    currency char(3) NOT NULL,
    min_amount_minor bigint NOT NULL CHECK (min_amount_minor > 0),
    max_amount_minor bigint NOT NULL CHECK (max_amount_minor >= min_amount_minor),
    min_term_days integer NOT NULL CHECK (min_term_days > 0),
    max_term_days integer NOT NULL CHECK (max_term_days >= min_term_days AND max_term_days <= 366),
    period_days integer NOT NULL DEFAULT 14 CHECK (period_days > 0),
    daily_rate numeric(12, 8) NOT NULL CHECK (daily_rate >= 0),
    penalty_annual_rate numeric(12, 8) NOT NULL DEFAULT 0.2 CHECK (penalty_annual_rate >= 0),
    extension_days integer NOT NULL DEFAULT 0 CHECK (extension_days >= 0),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lending_applications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    product_id uuid NOT NULL REFERENCES lending_products (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    term_days integer NOT NULL CHECK (term_days > 0),
    currency char(3) NOT NULL,
    status varchar(12) NOT NULL DEFAULT 'submitted'
        CHECK (status IN ('submitted', 'approved', 'rejected', 'signed', 'cancelled')),
    decision_reason text NOT NULL DEFAULT '',
    decided_by text,
    decided_at timestamptz,
    challenge_id uuid,
    psk numeric(9, 3) NOT NULL,
    interest_minor bigint NOT NULL,
    idempotency_key varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX lending_applications_queue ON lending_applications (created_at) WHERE status = 'submitted';
CREATE INDEX lending_applications_user ON lending_applications (user_id, created_at);

CREATE TABLE lending_loans (
    id uuid PRIMARY KEY,
    application_id uuid NOT NULL UNIQUE REFERENCES lending_applications (id),
    user_id uuid NOT NULL,
    product_id uuid NOT NULL REFERENCES lending_products (id),
    currency char(3) NOT NULL,
    principal_minor bigint NOT NULL CHECK (principal_minor > 0),
    schedule_kind varchar(20) NOT NULL,
    term_days integer NOT NULL,
    daily_rate numeric(12, 8) NOT NULL,
    penalty_annual_rate numeric(12, 8) NOT NULL,
    extension_days integer NOT NULL DEFAULT 0,
    psk numeric(9, 3) NOT NULL,
    cost_cap_minor bigint NOT NULL CHECK (cost_cap_minor >= 0),
    -- The loan's ledger receivables, opened at disbursement so close of day opens nothing.
    interest_account_id bigint NOT NULL,
    penalty_account_id bigint NOT NULL,
    disbursed_on date NOT NULL,
    due_on date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'overdue', 'repaid')),
    principal_paid_minor bigint NOT NULL DEFAULT 0,
    interest_accrued_minor bigint NOT NULL DEFAULT 0,
    interest_paid_minor bigint NOT NULL DEFAULT 0,
    penalty_accrued_minor bigint NOT NULL DEFAULT 0,
    penalty_paid_minor bigint NOT NULL DEFAULT 0,
    -- The exact running totals of daily accrual; each day posts round(total) - posted.
    interest_exact numeric(30, 12) NOT NULL DEFAULT 0,
    penalty_exact numeric(30, 12) NOT NULL DEFAULT 0,
    -- The last business date whose interest is in: close of day accrues each date once.
    accrued_through date,
    overdue_days integer NOT NULL DEFAULT 0,
    max_overdue_days integer NOT NULL DEFAULT 0,
    extensions integer NOT NULL DEFAULT 0,
    repaid_on date,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (principal_paid_minor BETWEEN 0 AND principal_minor),
    CHECK (interest_paid_minor BETWEEN 0 AND interest_accrued_minor),
    CHECK (penalty_paid_minor BETWEEN 0 AND penalty_accrued_minor),
    CHECK (interest_accrued_minor + penalty_accrued_minor <= cost_cap_minor),
    CHECK (status <> 'repaid' OR repaid_on IS NOT NULL)
);
CREATE INDEX lending_loans_user ON lending_loans (user_id, created_at);
CREATE INDEX lending_loans_open ON lending_loans (id) WHERE status <> 'repaid';

CREATE TABLE lending_instalments (
    loan_id uuid NOT NULL REFERENCES lending_loans (id),
    number integer NOT NULL CHECK (number > 0),
    due_on date NOT NULL,
    principal_minor bigint NOT NULL CHECK (principal_minor >= 0),
    interest_minor bigint NOT NULL CHECK (interest_minor >= 0),
    PRIMARY KEY (loan_id, number)
);

CREATE TABLE lending_payments (
    id uuid PRIMARY KEY,
    loan_id uuid NOT NULL REFERENCES lending_loans (id),
    kind varchar(10) NOT NULL CHECK (kind IN ('repayment', 'extension')),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    penalty_minor bigint NOT NULL DEFAULT 0,
    interest_minor bigint NOT NULL DEFAULT 0,
    principal_minor bigint NOT NULL DEFAULT 0,
    business_date date NOT NULL,
    new_due_on date,
    idempotency_key varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (loan_id, idempotency_key),
    CHECK (amount_minor = penalty_minor + interest_minor + principal_minor)
);
CREATE INDEX lending_payments_loan ON lending_payments (loan_id, created_at);
"""

forwards = sql_migration(ID, "lending", DESCRIPTION, SQL)
