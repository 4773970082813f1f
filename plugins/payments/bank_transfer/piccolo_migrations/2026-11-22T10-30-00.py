from core.db.migrations import sql_migration

ID = "2026-11-22T10:30:00"
VERSION = "1.38.0"
DESCRIPTION = "Imported bank statement lines"

SQL = """
CREATE TABLE payments_bank_statement_lines (
    id bigserial PRIMARY KEY,
    line_id varchar(200) NOT NULL UNIQUE,
    booked_on date NOT NULL,
    amount_minor bigint NOT NULL,
    currency varchar(3) NOT NULL,
    counterparty text NOT NULL DEFAULT '',
    purpose text NOT NULL DEFAULT '',
    reference varchar(40),
    payment_id uuid REFERENCES payments_payments (id),
    outcome varchar(30) NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    imported_by varchar(200) NOT NULL DEFAULT ''
);
CREATE INDEX payments_bank_statement_lines_recent ON payments_bank_statement_lines (imported_at DESC);
"""


forwards = sql_migration(ID, "payments_bank_transfer", DESCRIPTION, SQL)
