"""Key rotation and re-indexing of the encrypted columns plugins declare.

Rotation re-encrypts, in batches of rows each committed on its own, every ciphertext
not under the active key. A row changed meanwhile is left alone (the update compares
the old ciphertext) and picked up by the next run, so rotation can run while the
platform serves customers, and can be interrupted and run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.access.pii import PiiCipher, PiiError, PiiField

if TYPE_CHECKING:
    from core.platform import Platform


def pii_fields(platform: Platform) -> list[PiiField]:
    return [
        item
        for _plugin, item in platform.plugins.collect_registered("register_pii_fields", platform=platform)
    ]


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return f'"{name}"'


@dataclass
class FieldReport:
    field: str
    by_key: dict[str, int] = field(default_factory=dict)
    rotated: int = 0
    reindexed: int = 0
    unreadable: int = 0


async def key_usage(platform: Platform) -> list[FieldReport]:
    """How many ciphertexts each key protects, per field."""
    reports = []
    for f in pii_fields(platform):
        rows = await platform.db.fetch(
            f"""SELECT convert_from(substring({_ident(f.column)} FROM 3 FOR get_byte({_ident(f.column)}, 1)), 'UTF8')
                       AS kid, count(*) AS n
                FROM {_ident(f.table)} WHERE {_ident(f.column)} IS NOT NULL GROUP BY 1 ORDER BY 1"""
        )
        reports.append(FieldReport(f.context, {r["kid"]: r["n"] for r in rows}))
    return reports


async def _walk(platform: Platform, f: PiiField, batch: int, only_stale_key: str | None):
    """Yield batches of (key, ciphertext[, index]) rows in key order."""
    after = None
    columns = f"{_ident(f.key_column)} AS k, {_ident(f.column)} AS c"
    where = f"{_ident(f.column)} IS NOT NULL"
    if only_stale_key is not None:
        where += f" AND substring({_ident(f.column)} FROM 3 FOR get_byte({_ident(f.column)}, 1)) <> $2"
    while True:
        args: list[object] = [batch]
        if only_stale_key is not None:
            args.append(only_stale_key.encode())
        cursor = ""
        if after is not None:
            args.append(after)
            cursor = f" AND {_ident(f.key_column)} > ${len(args)}"
        rows = await platform.db.fetch(
            f"SELECT {columns} FROM {_ident(f.table)} WHERE {where}{cursor} ORDER BY {_ident(f.key_column)} LIMIT $1",
            *args,
        )
        if not rows:
            return
        yield rows
        after = rows[-1]["k"]


async def rotate(
    platform: Platform, *, batch: int = 500, progress: Callable[[str], None] | None = None
) -> list[FieldReport]:
    """Re-encrypt every ciphertext under the active key."""
    cipher = platform.service(PiiCipher)
    reports = []
    for f in pii_fields(platform):
        report = FieldReport(f.context)
        async for rows in _walk(platform, f, batch, cipher.active):
            async with platform.db.transaction() as conn:
                for row in rows:
                    try:
                        fresh = cipher.reencrypt(row["c"], context=f.context)
                    except PiiError:
                        report.unreadable += 1
                        continue
                    status = await conn.execute(
                        f"UPDATE {_ident(f.table)} SET {_ident(f.column)} = $1 "
                        f"WHERE {_ident(f.key_column)} = $2 AND {_ident(f.column)} = $3",
                        fresh,
                        row["k"],
                        row["c"],
                    )
                    report.rotated += int(status.split()[-1])
            if progress:
                progress(f"{f.context}: {report.rotated} re-encrypted")
        reports.append(report)
    return reports


async def reindex(
    platform: Platform, *, batch: int = 500, progress: Callable[[str], None] | None = None
) -> list[FieldReport]:
    """Recompute the blind indexes (after ``blind_index_key`` changed)."""
    cipher = platform.service(PiiCipher)
    reports = []
    for f in pii_fields(platform):
        if not f.index_column:
            continue
        report = FieldReport(f.context)
        async for rows in _walk(platform, f, batch, None):
            async with platform.db.transaction() as conn:
                for row in rows:
                    try:
                        plain = cipher.decrypt(row["c"], context=f.context)
                    except PiiError:
                        report.unreadable += 1
                        continue
                    normalized = f.normalize(plain) if f.normalize else plain
                    await conn.execute(
                        f"UPDATE {_ident(f.table)} SET {_ident(f.index_column)} = $1 "
                        f"WHERE {_ident(f.key_column)} = $2 AND {_ident(f.column)} = $3",
                        cipher.blind_index(normalized, context=f.context),
                        row["k"],
                        row["c"],
                    )
                    report.reindexed += 1
            if progress:
                progress(f"{f.context}: {report.reindexed} re-indexed")
        reports.append(report)
    return reports
