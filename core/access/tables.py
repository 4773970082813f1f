"""Tables of ``core.access`` (kept in step with ``piccolo_migrations``)."""

from piccolo.columns import JSONB, UUID, BigSerial, Boolean, Bytea, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class RoleRow(Table, tablename="access_roles"):
    code = Varchar(length=64, primary_key=True)
    name = Varchar(length=200)
    description = Text(default="")
    rank = Integer(default=1000)
    builtin = Boolean(default=False)
    customized = Boolean(default=False)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RolePermission(Table, tablename="access_role_permissions"):
    role_code = Varchar(length=64, primary_key=True)
    permission = Varchar(length=200)


class UserRole(Table, tablename="access_user_roles"):
    user_id = UUID(primary_key=True)
    role_code = Varchar(length=64)
    granted_by = UUID(null=True, default=None)
    granted_at = Timestamptz()


class Approval(Table, tablename="access_approvals"):
    """A sensitive action waiting for (or decided by) a second person."""

    id = UUID(primary_key=True)
    action = Varchar(length=200)
    permission = Varchar(length=200)
    payload = JSONB()
    summary = Text()
    reason = Text(default="")
    status = Varchar(length=16, default="pending")
    maker_id = UUID()
    checker_id = UUID(null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    result = JSONB(null=True, default=None)


class AuditRow(Table, tablename="audit_log"):
    """Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE."""

    id = BigSerial(primary_key=True)
    at = Timestamptz()
    actor_id = UUID(null=True, default=None)
    actor = Varchar(length=200)
    action = Varchar(length=200)
    target = Varchar(length=300, default="")
    details = JSONB()
    ip = Varchar(length=64, null=True, default=None)
    request_id = Varchar(length=64, null=True, default=None)


class Confirmation(Table, tablename="access_confirmations"):
    id = UUID(primary_key=True)
    user_id = UUID(null=True, default=None)
    purpose = Varchar(length=200)
    subject_hash = Bytea()
    code_hash = Bytea()
    sent_to = Varchar(length=200, default="")
    created_at = Timestamptz()
    expires_at = Timestamptz()
    attempts = Integer(default=0)
    max_attempts = Integer()
    consumed_at = Timestamptz(null=True, default=None)


class RateLimitRow(Table, tablename="access_rate_limits"):
    key = Varchar(length=300, primary_key=True)
    window_start = Timestamptz()
    window_s = Integer()
    hits = Integer()
