"""Input hygiene for free text that reaches the database or the audit log.

PostgreSQL refuses NUL characters and Python cannot encode lone surrogates, so either in
a name, a search or a note would turn into a server error. Text from users goes through
:func:`plain_text` (drops control, format and surrogate characters, collapses spaces,
cuts to a limit); values that must be exact (logins, codes) are checked with
:func:`is_text` and refused when they fail.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

#: The largest value a PostgreSQL bigint (and an asyncpg int parameter) holds.
MAX_BIGINT = 2**63 - 1


def is_text(value: str) -> bool:
    """True when ``value`` can be stored as it is: no NUL, no lone surrogates."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_text(value: str | None, limit: int = 200, *, one_line: bool = True) -> str:
    """``value`` as safe plain text: NFKC, no control characters, at most ``limit`` characters."""
    if not value:
        return ""
    value = unicodedata.normalize("NFKC", value)
    kept = "".join(
        ch if unicodedata.category(ch)[0] != "C" or (ch == "\n" and not one_line) else " " for ch in value
    )
    if one_line:
        kept = " ".join(kept.split())
    return kept.strip()[:limit]


def moment_in_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC (a naive one taken as UTC), held within the years Python can count.

    ``0001-01-01T00:00+14:00`` is a valid timestamp whose UTC is in year 0; asyncpg would
    fail to send it. A moment before the first or after the last representable one is
    as good as that one for "before" and "after" comparisons.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.min if value.year == dt.MINYEAR else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)
