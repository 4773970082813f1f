"""Tables of the users plugin (kept in step with ``piccolo_migrations``)."""

from piccolo.columns import UUID, Bytea, Date, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class User(Table, tablename="users_users"):
    """An account. Phone, ITN and passport are AES-GCM ciphertexts; ``*_bidx`` are blind indexes."""

    id = UUID(primary_key=True)
    status = Varchar(length=16, default="pending")
    email = Varchar(length=320, null=True, default=None)
    phone_enc = Bytea(null=True, default=None)
    phone_bidx = Bytea(null=True, default=None)
    itn_enc = Bytea(null=True, default=None)
    itn_bidx = Bytea(null=True, default=None)
    passport_enc = Bytea(null=True, default=None)
    display_name = Varchar(length=200, default="")
    locale = Varchar(length=8, null=True, default=None)
    password_hash = Text(null=True, default=None)
    password_changed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    confirmed_at = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    blocked_at = Timestamptz(null=True, default=None)
    blocked_reason = Text(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)


class Session(Table, tablename="users_sessions"):
    """A signed-in browser. Only the SHA-256 of the cookie's token is kept."""

    id = UUID(primary_key=True)
    token_hash = Bytea(unique=True)
    user_id = UUID()
    csrf_token = Varchar(length=64)
    created_at = Timestamptz()
    last_seen_at = Timestamptz()
    expires_at = Timestamptz()
    ip = Varchar(length=64, null=True, default=None)
    user_agent = Varchar(length=300, null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class ApiToken(Table, tablename="users_api_tokens"):
    """A bearer token for programs acting as a user. Only its SHA-256 is kept."""

    id = UUID(primary_key=True)
    user_id = UUID()
    name = Varchar(length=100)
    token_hash = Bytea(unique=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class Activity(Table, tablename="users_activity"):
    """A user was active on a day (for the active-users statistics)."""

    day = Date(primary_key=True)
    user_id = UUID()
