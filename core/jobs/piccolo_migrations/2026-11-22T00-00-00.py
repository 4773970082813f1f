from core.db.migrations import sql_migration

ID = "2026-11-22T00:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Task queue, business date and once-per-date job runs"

SQL = """
CREATE TABLE taskiq_messages (
    id bigserial PRIMARY KEY,
    task_id varchar(64) NOT NULL,
    task_name varchar(200) NOT NULL,
    message text NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    status varchar(20) NOT NULL DEFAULT 'pending',
    created_at timestamptz NOT NULL DEFAULT now(),
    available_at timestamptz NOT NULL DEFAULT now(),
    claimed_at timestamptz,
    claimed_by varchar(200),
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX taskiq_messages_due ON taskiq_messages (available_at, id) WHERE status = 'pending';
CREATE INDEX taskiq_messages_claimed ON taskiq_messages (claimed_at) WHERE status = 'processing';

CREATE TABLE core_business_date (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    business_date date NOT NULL
);
INSERT INTO core_business_date (business_date) VALUES (current_date);

CREATE TABLE core_job_runs (
    id bigserial PRIMARY KEY,
    job_name varchar(200) NOT NULL,
    business_date date NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (job_name, business_date)
);
"""


forwards = sql_migration(ID, "core_jobs", DESCRIPTION, SQL)
