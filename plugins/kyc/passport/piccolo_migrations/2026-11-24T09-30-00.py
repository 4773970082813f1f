from core.db.migrations import sql_migration

ID = "2026-11-24T09:30:00"
VERSION = "1.38.0"
DESCRIPTION = "The MVD list of invalid passports and its imports"

SQL = """
-- series and number as one number (SSSSNNNNNN): 8 bytes a row for a list of 100+ million rows.
-- An import builds a new table and swaps it in; lookups read the old one meanwhile.
CREATE TABLE kyc_invalid_passports (
    passport bigint NOT NULL,
    reason smallint
);
CREATE INDEX kyc_invalid_passports_passport ON kyc_invalid_passports (passport);

CREATE TABLE kyc_passport_list_imports (
    id bigserial PRIMARY KEY,
    source varchar(1000) NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('running', 'done', 'unchanged', 'failed')),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    etag varchar(500),
    last_modified varchar(100),
    bytes bigint NOT NULL DEFAULT 0,
    rows bigint NOT NULL DEFAULT 0,
    skipped bigint NOT NULL DEFAULT 0,
    error text
);
CREATE INDEX kyc_passport_list_imports_done ON kyc_passport_list_imports (finished_at DESC) WHERE status = 'done';
"""


forwards = sql_migration(ID, "kyc_passport", DESCRIPTION, SQL)
