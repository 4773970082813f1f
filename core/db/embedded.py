"""The embedded PostgreSQL server (the ``pgserver`` package).

It listens on a Unix socket in its data folder and is started on demand by every
command that needs the database. pgserver counts the processes using it and stops
the server when the last one exits, so several kopilka processes can share it.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

DATABASE_NAME = "kopilka"


def embedded_server(data_dir: Path, *, cleanup_mode: str | None = "stop"):
    """Start (or attach to) the embedded server whose data lives in ``data_dir``."""
    import pgserver  # slow import; only deployments without DATABASE_URL need it

    data_dir = data_dir.resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pgserver.get_server(data_dir, cleanup_mode=cleanup_mode)


def embedded_dsn(server, database: str = DATABASE_NAME) -> str:
    return server.get_uri(database)


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create database ``name`` on the server reached by ``admin_dsn`` unless it exists."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            except asyncpg.DuplicateDatabaseError:  # another process won the race
                pass
    finally:
        await conn.close()
