from core.db.migrations import sql_migration

ID = "2026-11-23T10:00:00"
VERSION = "1.38.0"
DESCRIPTION = "Staged projects: stages, budget lines, spending, publications, attachments"

SQL = """
CREATE TABLE projects_projects (
    id uuid PRIMARY KEY,
    slug varchar(80) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    title varchar(200) NOT NULL CHECK (title <> ''),
    summary text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    currency char(3) NOT NULL DEFAULT 'RUB',
    kind varchar(60) NOT NULL DEFAULT '',
    visibility varchar(20) NOT NULL DEFAULT 'draft' CHECK (visibility IN ('draft', 'published', 'archived')),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects_stages (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects_projects (id),
    position integer NOT NULL CHECK (position > 0),
    title varchar(200) NOT NULL CHECK (title <> ''),
    description text NOT NULL DEFAULT '',
    target_minor bigint NOT NULL CHECK (target_minor > 0),
    cap_minor bigint NOT NULL,
    opens_at timestamptz,
    closes_at timestamptz,
    status varchar(20) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'collecting', 'funded', 'in_progress', 'completed', 'failed', 'refunded')),
    -- What came in, what went back on failure, and what finance released to the project.
    collected_minor bigint NOT NULL DEFAULT 0,
    contributions integer NOT NULL DEFAULT 0,
    refunded_minor bigint NOT NULL DEFAULT 0,
    released_minor bigint NOT NULL DEFAULT 0,
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, position),
    CHECK (cap_minor >= target_minor),
    -- The cap holds in the database itself, whatever the code above it does.
    CHECK (collected_minor >= 0 AND collected_minor <= cap_minor),
    CHECK (refunded_minor >= 0 AND released_minor >= 0 AND refunded_minor + released_minor <= collected_minor),
    CHECK (closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at)
) WITH (fillfactor = 70);
CREATE INDEX projects_stages_project ON projects_stages (project_id, position);
CREATE INDEX projects_stages_collecting ON projects_stages (closes_at) WHERE status = 'collecting';

CREATE TABLE projects_stage_events (
    id bigserial PRIMARY KEY,
    stage_id uuid NOT NULL REFERENCES projects_stages (id),
    old_status varchar(20) NOT NULL,
    new_status varchar(20) NOT NULL,
    reason text NOT NULL DEFAULT '',
    actor_id uuid,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projects_stage_events_stage ON projects_stage_events (stage_id, id);

CREATE TABLE projects_budget_lines (
    id uuid PRIMARY KEY,
    stage_id uuid NOT NULL REFERENCES projects_stages (id),
    position integer NOT NULL CHECK (position > 0),
    title varchar(200) NOT NULL CHECK (title <> ''),
    category varchar(20) NOT NULL DEFAULT 'task' CHECK (category IN ('task', 'structure', 'material', 'other')),
    planned_minor bigint NOT NULL CHECK (planned_minor >= 0),
    required boolean NOT NULL DEFAULT true,
    UNIQUE (stage_id, position)
);

CREATE TABLE projects_spending (
    id uuid PRIMARY KEY,
    stage_id uuid NOT NULL REFERENCES projects_stages (id),
    budget_line_id uuid NOT NULL REFERENCES projects_budget_lines (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    description text NOT NULL CHECK (description <> ''),
    payee varchar(200) NOT NULL DEFAULT '',
    spent_on date NOT NULL,
    status varchar(20) NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'approved', 'rejected')),
    recorded_by uuid,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    decided_by uuid,
    decided_at timestamptz,
    decision_note text NOT NULL DEFAULT '',
    release_transfer_id uuid,
    CHECK (status = 'submitted' OR decided_at IS NOT NULL),
    CHECK (status <> 'approved' OR release_transfer_id IS NOT NULL)
);
CREATE INDEX projects_spending_stage ON projects_spending (stage_id, recorded_at);

CREATE TABLE projects_publications (
    id uuid PRIMARY KEY,
    project_id uuid NOT NULL REFERENCES projects_projects (id),
    stage_id uuid REFERENCES projects_stages (id),
    kind varchar(30) NOT NULL CHECK (kind IN ('news', 'stage_report', 'accounting_report', 'document')),
    title varchar(200) NOT NULL CHECK (title <> ''),
    body text NOT NULL DEFAULT '',
    status varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_by uuid,
    published_at timestamptz,
    CHECK (status = 'draft' OR published_at IS NOT NULL)
);
CREATE INDEX projects_publications_project ON projects_publications (project_id, published_at DESC);

CREATE TABLE projects_attachments (
    id uuid PRIMARY KEY,
    spending_id uuid REFERENCES projects_spending (id),
    publication_id uuid REFERENCES projects_publications (id),
    file_key varchar(200) NOT NULL UNIQUE,
    filename varchar(200) NOT NULL,
    content_type varchar(100) NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes > 0),
    sha256 char(64) NOT NULL,
    uploaded_by uuid,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((spending_id IS NULL) <> (publication_id IS NULL))
);
CREATE INDEX projects_attachments_spending ON projects_attachments (spending_id) WHERE spending_id IS NOT NULL;
CREATE INDEX projects_attachments_publication ON projects_attachments (publication_id) WHERE publication_id IS NOT NULL;
"""


forwards = sql_migration(ID, "core_projects", DESCRIPTION, SQL)
