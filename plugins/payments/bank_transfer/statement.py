"""Bank statements as CSV: reading the lines, whatever the bank named its columns.

Columns are found by name (English or Russian, any case): date, amount, currency,
counterparty, purpose and the bank's own line id. Amounts may use a comma or a dot and
spaces between thousands; a negative amount is money that left the account. A line
without an id gets one from its content, so importing the same file twice adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from core.money import Money, MoneyError, exponent
from plugins.payments.bank_transfer.reference import find_references

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "дата", "дата операции", "booked", "value date"),
    "amount": ("amount", "сумма", "sum"),
    "currency": ("currency", "валюта"),
    "counterparty": ("counterparty", "payer", "контрагент", "плательщик", "получатель", "name"),
    "purpose": ("purpose", "назначение платежа", "назначение", "description", "details"),
    "id": ("id", "bank_ref", "reference id", "номер документа", "номер", "transaction id"),
}
REQUIRED = ("date", "amount", "purpose")


@dataclass(frozen=True)
class StatementLine:
    line_id: str
    booked_on: dt.date
    amount: Money
    counterparty: str
    purpose: str
    references: tuple[str, ...] = ()

    @property
    def incoming(self) -> bool:
        return self.amount.minor > 0


@dataclass
class ParsedStatement:
    lines: list[StatementLine] = field(default_factory=list)
    #: One message per value that could not be read, naming its line and column.
    errors: list[str] = field(default_factory=list)


def _amount(text: str) -> Decimal:
    cleaned = re.sub(r"[\s\u00a0]", "", text).replace(",", ".")
    return Decimal(cleaned)


def _date(text: str) -> dt.date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {text!r} is not YYYY-MM-DD or DD.MM.YYYY")


def parse_statement(text: str, default_currency: str) -> ParsedStatement:
    result = ParsedStatement()
    text = text.lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append("the file is empty")
        return result
    except csv.Error as exc:
        result.errors.append(f"line {reader.line_num}: {exc}")
        return result
    names = [h.strip().lower() for h in header]
    where: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                where[column] = i
                break
    missing = [c for c in REQUIRED if c not in where]
    if missing:
        result.errors.append(f"line 1: no column for {', '.join(missing)} (columns found: {', '.join(header)})")
        return result
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:  # a stray quote, a field longer than csv allows...
            result.errors.append(f"line {reader.line_num}: {exc}")
            break
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        nul = next((i for i, value in enumerate(row) if "\x00" in value), None)
        if nul is not None:
            name = header[nul].strip() if nul < len(header) else str(nul + 1)
            result.errors.append(f"line {number}, column {name!r}: a NUL character (this is not a text file)")
            continue

        def cell(column: str, row: list[str] = row) -> str:
            index = where.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        def wrong(column: str, problem: str, number: int = number) -> None:
            result.errors.append(f"line {number}, column {header[where[column]].strip()!r}: {problem}")

        currency = (cell("currency") or default_currency).upper()
        try:
            exponent(currency)
        except MoneyError:
            wrong("currency", f"{cell('currency')!r} is not a currency code (RUB, USD...)")
            continue
        try:
            amount = Money.of(_amount(cell("amount")), currency)
        except MoneyError as exc:
            wrong("amount", str(exc))
            continue
        except (InvalidOperation, ValueError):
            wrong("amount", f"{cell('amount')!r} is not a number")
            continue
        try:
            booked = _date(cell("date"))
        except ValueError as exc:
            wrong("date", str(exc))
            continue
        purpose = cell("purpose")
        line_id = cell("id") or "sha256:" + hashlib.sha256(
            "|".join([booked.isoformat(), str(amount), cell("counterparty"), purpose]).encode()).hexdigest()[:32]
        result.lines.append(StatementLine(line_id=line_id[:200], booked_on=booked, amount=amount,
                                          counterparty=cell("counterparty"), purpose=purpose,
                                          references=tuple(find_references(purpose))))
    return result


def to_csv(lines: list[StatementLine]) -> str:
    """A statement in the layout :func:`parse_statement` reads first (the sandbox bank's export)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["id", "date", "amount", "currency", "counterparty", "purpose"])
    for line in lines:
        writer.writerow([line.line_id, line.booked_on.isoformat(), f"{line.amount.amount}", line.amount.currency,
                         line.counterparty, line.purpose])
    return out.getvalue()
