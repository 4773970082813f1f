"""Reading the ledger: accounts, balances now and in the past, statements, trial balances.

Every read that walks transfers uses the per-account indexes ``(account, recorded_at, seq)``
and keyset conditions, so it costs the same at a million transfers as at ten.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

from core.ledger.apply import TRANSFER_COLUMNS, transfer_from_row
from core.ledger.catalog import Catalog
from core.ledger.digest import EPOCH, ONE_MICROSECOND, micros
from core.ledger.model import (
    Account,
    AccountBalance,
    AccountFlags,
    StatementLine,
    StatementPage,
    Totals,
    Transfer,
    TransferKind,
    TrialBalance,
    TrialBalanceRow,
)

ACCOUNT_COLUMNS = """id, ledger_id, owner, purpose, flags, debits_limit, credits_limit,
    debits_posted, credits_posted, debits_pending, credits_pending, metadata, created_at"""

_CURSOR = re.compile(r"^(-?\d{1,19})\.(\d{1,19})$")
MAX_PAGE = 1000


class BadCursor(ValueError):
    pass


def account_from_row(row: Any, catalog: Catalog) -> Account:
    return Account(
        id=row["id"],
        currency=catalog.by_id[row["ledger_id"]].code,
        owner=row["owner"],
        purpose=row["purpose"],
        flags=AccountFlags(row["flags"]),
        debits_limit=row["debits_limit"],
        credits_limit=row["credits_limit"],
        totals=Totals(
            row["debits_posted"], row["credits_posted"], row["debits_pending"], row["credits_pending"]
        ),
        metadata=row["metadata"],
        created_at=row["created_at"],
    )


async def accounts_from_rows(conn: Any, rows: list[Any], catalog: Catalog) -> list[Account]:
    await catalog.ensure_ids(conn, {row["ledger_id"] for row in rows})
    return [account_from_row(row, catalog) for row in rows]


async def get_account(conn: Any, catalog: Catalog, account_id: int) -> Account | None:
    row = await conn.fetchrow(f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = $1", account_id)
    if row is None:
        return None
    return (await accounts_from_rows(conn, [row], catalog))[0]


async def list_accounts(
    conn: Any,
    catalog: Catalog,
    *,
    owner: str | None = None,
    currency: str | None = None,
    purpose: str | None = None,
    after_id: int = 0,
    limit: int = 100,
) -> list[Account]:
    conditions = ["id > $1"]
    args: list[Any] = [after_id]
    if owner is not None:
        args.append(owner)
        conditions.append(f"owner = ${len(args)}")
    if purpose is not None:
        args.append(purpose)
        conditions.append(f"purpose = ${len(args)}")
    if currency is not None:
        info = catalog.by_code.get(currency)
        if info is None:
            await catalog.load(conn)
            info = catalog.by_code.get(currency)
        if info is None:
            return []
        args.append(info.id)
        conditions.append(f"ledger_id = ${len(args)}")
    args.append(min(limit, MAX_PAGE))
    rows = await conn.fetch(
        f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE {' AND '.join(conditions)} ORDER BY id LIMIT ${len(args)}",
        *args,
    )
    return await accounts_from_rows(conn, rows, catalog)


# -- balances ---------------------------------------------------------------------------------

_TOTALS_AT = """
SELECT * FROM (
    (SELECT recorded_at, seq, dr_debits_posted AS dp, dr_credits_posted AS cp,
            dr_debits_pending AS dpe, dr_credits_pending AS cpe
       FROM ledger_transfers WHERE debit_account_id = $1 AND recorded_at <= $2
      ORDER BY recorded_at DESC, seq DESC LIMIT 1)
    UNION ALL
    (SELECT recorded_at, seq, cr_debits_posted, cr_credits_posted, cr_debits_pending, cr_credits_pending
       FROM ledger_transfers WHERE credit_account_id = $1 AND recorded_at <= $2
      ORDER BY recorded_at DESC, seq DESC LIMIT 1)
) AS last ORDER BY recorded_at DESC, seq DESC LIMIT 1
"""

_POSTED_BY_VALUE_DATE = """
SELECT coalesce(sum(amount) FILTER (WHERE credit_account_id = $1), 0)
     - coalesce(sum(amount) FILTER (WHERE debit_account_id = $1), 0)
FROM ledger_transfers
WHERE (debit_account_id = $1 OR credit_account_id = $1) AND kind IN (0, 2) AND value_date <= $2
"""


async def balance(
    conn: Any, catalog: Catalog, account_id: int, at: dt.datetime | None = None
) -> AccountBalance | None:
    account = await get_account(conn, catalog, account_id)
    if account is None:
        return None
    if at is None:
        return AccountBalance.of(account, account.totals)
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    row = await conn.fetchrow(_TOTALS_AT, account_id, at)
    totals = Totals(row["dp"], row["cp"], row["dpe"], row["cpe"]) if row else Totals()
    return AccountBalance.of(account, totals, as_of=at)


async def posted_balance_on(conn: Any, account_id: int, value_date: dt.date) -> int:
    """Posted balance counting transfers whose value date is on or before ``value_date``.

    The business-date axis: a transfer recorded late but dated earlier counts on its value date.
    """
    return int(await conn.fetchval(_POSTED_BY_VALUE_DATE, account_id, value_date))


async def owner_balances(conn: Any, catalog: Catalog, owner: str) -> list[AccountBalance]:
    rows = await conn.fetch(
        f"SELECT {ACCOUNT_COLUMNS} FROM ledger_accounts WHERE owner = $1 ORDER BY id", owner
    )
    return [AccountBalance.of(a, a.totals) for a in await accounts_from_rows(conn, rows, catalog)]


# -- transfers and statements --------------------------------------------------------------------


async def get_transfer(conn: Any, catalog: Catalog, transfer_id: uuid.UUID) -> Transfer | None:
    row = await conn.fetchrow(f"SELECT {TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = $1", transfer_id)
    if row is None:
        return None
    return transfer_from_row(row, await catalog.code_of(conn, row["ledger_id"]))


def encode_cursor(recorded_at: dt.datetime, seq: int) -> str:
    return f"{micros(recorded_at)}.{seq}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    match = _CURSOR.match(cursor)
    if not match:
        raise BadCursor(f"not a statement cursor: {cursor!r} (pass back next_cursor unchanged)")
    try:
        return EPOCH + int(match.group(1)) * ONE_MICROSECOND, int(match.group(2))
    except OverflowError:
        raise BadCursor(f"statement cursor out of range: {cursor!r}") from None


_STATEMENT = f"""
SELECT * FROM (
    (SELECT {TRANSFER_COLUMNS}, 'debit' AS side FROM ledger_transfers
      WHERE debit_account_id = $1 AND (recorded_at, seq) < ($2, $3)
      ORDER BY recorded_at DESC, seq DESC LIMIT $4)
    UNION ALL
    (SELECT {TRANSFER_COLUMNS}, 'credit' FROM ledger_transfers
      WHERE credit_account_id = $1 AND (recorded_at, seq) < ($2, $3)
      ORDER BY recorded_at DESC, seq DESC LIMIT $4)
) AS lines ORDER BY recorded_at DESC, seq DESC LIMIT $4
"""


async def statement(
    conn: Any, catalog: Catalog, account_id: int, *, before: str | None = None, limit: int = 50
) -> StatementPage:
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")
    if before is None:
        until, seq = dt.datetime.max.replace(tzinfo=dt.UTC), 2**63 - 1
    else:
        until, seq = decode_cursor(before)
    rows = await conn.fetch(_STATEMENT, account_id, until, seq, limit + 1)
    lines = []
    for row in rows[:limit]:
        debited = row["side"] == "debit"
        prefix = "dr_" if debited else "cr_"
        lines.append(
            StatementLine(
                transfer_id=row["id"],
                seq=row["seq"],
                kind=TransferKind(row["kind"]),
                code=row["code"],
                value_date=row["value_date"],
                recorded_at=row["recorded_at"],
                amount=-row["amount"] if debited else row["amount"],
                counterparty_account_id=row["credit_account_id"] if debited else row["debit_account_id"],
                totals_after=Totals(
                    row[prefix + "debits_posted"],
                    row[prefix + "credits_posted"],
                    row[prefix + "debits_pending"],
                    row[prefix + "credits_pending"],
                ),
                metadata=row["metadata"],
                pending_id=row["pending_id"],
                reverses_id=row["reverses_id"],
            )
        )
    next_cursor = encode_cursor(lines[-1].recorded_at, lines[-1].seq) if len(rows) > limit else None
    return StatementPage(account_id, lines, next_cursor)


# -- trial balance ------------------------------------------------------------------------------------


async def trial_balance(conn: Any, catalog: Catalog, currency: str) -> TrialBalance | None:
    info = catalog.by_code.get(currency)
    if info is None:
        await catalog.load(conn)
        info = catalog.by_code.get(currency)
    if info is None:
        return None
    rows = await conn.fetch(
        "SELECT purpose, count(*) AS accounts, sum(debits_posted) AS dp, sum(credits_posted) AS cp,"
        " sum(debits_pending) AS dpe, sum(credits_pending) AS cpe"
        " FROM ledger_accounts WHERE ledger_id = $1 GROUP BY purpose ORDER BY purpose",
        info.id,
    )
    return TrialBalance(
        info.code,
        info.scale,
        [
            TrialBalanceRow(
                r["purpose"], r["accounts"], int(r["dp"]), int(r["cp"]), int(r["dpe"]), int(r["cpe"])
            )
            for r in rows
        ],
    )


CSV_HEADER = [
    "account_id",
    "owner",
    "purpose",
    "currency",
    "debits_posted",
    "credits_posted",
    "balance",
    "balance_decimal",
    "debits_pending",
    "credits_pending",
]


def _csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


async def trial_balance_csv(db: Any, catalog: Catalog, currency: str, page: int = 5000) -> AsyncIterator[str]:
    """Every account of the ledger, one CSV line each, and a TOTAL line; streamed page by page."""
    async with db.connection() as conn:
        info = catalog.by_code.get(currency)
        if info is None:
            await catalog.load(conn)
            info = catalog.by_code[currency]
    yield _csv_line(CSV_HEADER)
    totals = [0, 0, 0, 0]
    after = 0
    unit = Decimal(1).scaleb(-info.scale)
    while True:
        async with db.connection() as conn:
            rows = await conn.fetch(
                "SELECT id, owner, purpose, debits_posted, credits_posted, debits_pending, credits_pending"
                " FROM ledger_accounts WHERE ledger_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                info.id,
                after,
                page,
            )
        if not rows:
            break
        chunk = []
        for r in rows:
            balance_minor = r["credits_posted"] - r["debits_posted"]
            totals[0] += r["debits_posted"]
            totals[1] += r["credits_posted"]
            totals[2] += r["debits_pending"]
            totals[3] += r["credits_pending"]
            chunk.append(
                _csv_line(
                    [
                        r["id"],
                        r["owner"],
                        r["purpose"],
                        info.code,
                        r["debits_posted"],
                        r["credits_posted"],
                        balance_minor,
                        Decimal(balance_minor) * unit,
                        r["debits_pending"],
                        r["credits_pending"],
                    ]
                )
            )
        yield "".join(chunk)
        after = rows[-1]["id"]
    balance_minor = totals[1] - totals[0]
    yield _csv_line(
        [
            "TOTAL",
            "",
            "",
            info.code,
            totals[0],
            totals[1],
            balance_minor,
            Decimal(balance_minor) * unit,
            totals[2],
            totals[3],
        ]
    )
