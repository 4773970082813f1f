from core.db.migrations import sql_migration

ID = "2026-11-22T05:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Cooperative: programs, members, share movements, valuations with their queues, instalments"

SQL = """
CREATE TABLE coop_programs (
    id uuid PRIMARY KEY,
    code varchar(40) NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]*$'),
    name text NOT NULL CHECK (name <> ''),
    currency char(3) NOT NULL,
    min_target_minor bigint NOT NULL CHECK (min_target_minor > 0),
    max_target_minor bigint NOT NULL CHECK (max_target_minor >= min_target_minor),
    min_share numeric(7, 6) NOT NULL CHECK (min_share > 0 AND min_share <= 1),
    min_membership_days integer NOT NULL CHECK (min_membership_days >= 0),
    reserve_ratio numeric(7, 6) NOT NULL CHECK (reserve_ratio >= 0 AND reserve_ratio <= 1),
    strict_queue boolean NOT NULL DEFAULT true,
    -- 0: valuate at every close of day; 1..28: on that day of the month only.
    valuation_day integer NOT NULL DEFAULT 0 CHECK (valuation_day BETWEEN 0 AND 28),
    instalment_count integer NOT NULL CHECK (instalment_count BETWEEN 1 AND 600),
    instalment_days integer NOT NULL CHECK (instalment_days BETWEEN 1 AND 366),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE coop_members (
    id uuid PRIMARY KEY,
    program_id uuid NOT NULL REFERENCES coop_programs (id),
    user_id uuid NOT NULL,
    target_minor bigint NOT NULL CHECK (target_minor > 0),
    joined_on date NOT NULL,
    status varchar(10) NOT NULL DEFAULT 'saving' CHECK (status IN ('saving', 'allotted')),
    in_arrears boolean NOT NULL DEFAULT false,
    allotted_on date,
    obligation_minor bigint NOT NULL DEFAULT 0 CHECK (obligation_minor >= 0),
    repaid_minor bigint NOT NULL DEFAULT 0 CHECK (repaid_minor >= 0 AND repaid_minor <= obligation_minor),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, user_id)
);

CREATE TABLE coop_movements (
    id uuid PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES coop_members (id),
    kind varchar(12) NOT NULL CHECK (kind IN ('contribution', 'withdrawal', 'repayment')),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    value_date date NOT NULL,
    idempotency_key varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (member_id, idempotency_key)
);
CREATE INDEX coop_movements_member ON coop_movements (member_id, value_date);

CREATE TABLE coop_valuations (
    id uuid PRIMARY KEY,
    program_id uuid NOT NULL REFERENCES coop_programs (id),
    valuation_date date NOT NULL,
    cash_minor bigint NOT NULL,
    liabilities_minor bigint NOT NULL,
    available_minor bigint NOT NULL,
    allotted_minor bigint NOT NULL,
    allotted_count integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, valuation_date)
);

CREATE TABLE coop_queue (
    id bigserial PRIMARY KEY,
    valuation_id uuid NOT NULL REFERENCES coop_valuations (id),
    member_id uuid NOT NULL REFERENCES coop_members (id),
    rank integer NOT NULL,
    score numeric(30, 6) NOT NULL,
    balance_minor bigint NOT NULL,
    eligible boolean NOT NULL,
    allotted boolean NOT NULL,
    UNIQUE (valuation_id, member_id),
    UNIQUE (valuation_id, rank)
);

CREATE TABLE coop_instalments (
    id bigserial PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES coop_members (id),
    number integer NOT NULL,
    due_on date NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    UNIQUE (member_id, number)
);
"""

forwards = sql_migration(ID, "cooperative", DESCRIPTION, SQL)
