"""PostgreSQL: the embedded server, the connection pool, piccolo and migrations."""

from core.db.database import Database, PinnedDatabase, active

__all__ = ["Database", "PinnedDatabase", "active"]
