"""259-FZ limits as rules, and the counters that enforce them under concurrency.

The rules (``[plugins.crowdinvesting] limit_rules``) say how much may be invested per
investor and calendar year, per project and calendar year, and per investor in one stage,
and whom each binds (non-qualified investors, or everyone). :func:`binding_caps` folds the
rules that bind one investor into the tightest cap per scope.

Enforcement is one guarded upsert per counter (:func:`count_investor_year`,
:func:`count_project_year`): the row lock it takes serialises every investment of the same
investor (or project), and the ``WHERE`` refuses the increment that would cross the cap. Two
concurrent attempts at the last 10,000 roubles of a 600,000 limit: one waits for the other's
commit, then sees the new total and is refused. Investments made through other platforms,
as declared by the investor, count too (art. 7 counts all platforms).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from core.projects.errors import Conflict
from core.web.i18n import gettext as _
from core.web.i18n import money
from plugins.crowdinvesting.settings import CrowdinvestingSettings, LimitRule

#: "No cap" as a number PostgreSQL compares with bigints.
UNLIMITED = 2**62


@dataclass(frozen=True)
class Caps:
    """The tightest cap per scope for one investor (``None``: nothing binds)."""

    investor_year: int | None = None
    #: The same cap, counting what the investor declared on other platforms.
    investor_year_with_declared: int | None = None
    project_year: int | None = None
    investor_stage: int | None = None
    investor_year_rule: str = ""
    project_year_rule: str = ""
    investor_stage_rule: str = ""


def _binds(rule: LimitRule, qualified: bool) -> bool:
    return rule.applies_to == "everyone" or not qualified


def binding_caps(settings: CrowdinvestingSettings, *, qualified: bool, stage_cap_minor: int | None = None) -> Caps:
    """Fold the rules binding an investor into one cap per scope (plus a project's own per-investor cap)."""
    found: dict[str, tuple[int, str]] = {}

    def tighten(key: str, cap: int, name: str) -> None:
        if key not in found or cap < found[key][0]:
            found[key] = (cap, name)

    for rule in settings.limit_rules:
        if not _binds(rule, qualified):
            continue
        cap = settings.minor(rule.max_amount)
        if rule.scope == "investor_calendar_year":
            tighten("investor_year_with_declared" if rule.include_declared_elsewhere else "investor_year", cap,
                    rule.name)
        elif rule.scope == "project_calendar_year":
            tighten("project_year", cap, rule.name)
        else:
            tighten("investor_stage", cap, rule.name)
    if stage_cap_minor is not None:
        tighten("investor_stage", stage_cap_minor, "the project's cap per investor")
    return Caps(
        investor_year=found.get("investor_year", (None, ""))[0],
        investor_year_with_declared=found.get("investor_year_with_declared", (None, ""))[0],
        project_year=found.get("project_year", (None, ""))[0],
        investor_stage=found.get("investor_stage", (None, ""))[0],
        investor_year_rule=(found.get("investor_year_with_declared") or found.get("investor_year") or (0, ""))[1],
        project_year_rule=found.get("project_year", (0, ""))[1],
        investor_stage_rule=found.get("investor_stage", (0, ""))[1],
    )


def calendar_year(moment: dt.datetime, timezone: str) -> int:
    """The calendar year an investment counts in: the platform's local date decides."""
    return moment.astimezone(ZoneInfo(timezone)).year


async def count_investor_year(conn: Any, user_id: UUID, year: int, amount: int, caps: Caps, currency: str) -> int:
    """Add ``amount`` to the investor's year, or refuse with what is still allowed; returns the new total."""
    plain = caps.investor_year if caps.investor_year is not None else UNLIMITED
    declared = caps.investor_year_with_declared if caps.investor_year_with_declared is not None else UNLIMITED
    if amount > min(plain, declared):
        raise _over_investor_limit(amount, 0, min(plain, declared), caps, currency, year)
    total = await conn.fetchval(
        """INSERT INTO crowd_investor_years AS y (user_id, year, invested_minor) VALUES ($1, $2, $3)
           ON CONFLICT (user_id, year) DO UPDATE SET invested_minor = y.invested_minor + EXCLUDED.invested_minor
           WHERE y.invested_minor + EXCLUDED.invested_minor <= $4
             AND y.invested_minor + y.declared_elsewhere_minor + EXCLUDED.invested_minor <= $5
           RETURNING invested_minor""", user_id, year, amount, plain, declared)
    if total is None:
        row = await conn.fetchrow("SELECT invested_minor, declared_elsewhere_minor FROM crowd_investor_years "
                                  "WHERE user_id = $1 AND year = $2", user_id, year)
        used = row["invested_minor"] + (row["declared_elsewhere_minor"] if declared <= plain else 0)
        raise _over_investor_limit(amount, used, min(plain, declared), caps, currency, year)
    return total


def _over_investor_limit(amount: int, used: int, cap: int, caps: Caps, currency: str, year: int) -> Conflict:
    left = max(cap - used, 0)
    return Conflict(_(
        "this investment of %(amount)s would take your %(year)s total over %(cap)s (%(rule)s); you may invest "
        "%(left)s more this year, or confirm qualified investor status", amount=money(amount, currency),
        year=year, cap=money(cap, currency), rule=caps.investor_year_rule, left=money(left, currency)))


async def count_project_year(conn: Any, project_id: UUID, year: int, amount: int, caps: Caps, currency: str) -> None:
    cap = caps.project_year if caps.project_year is not None else UNLIMITED
    total = await conn.fetchval(
        """INSERT INTO crowd_project_years AS y (project_id, year, raised_minor)
           SELECT $1::uuid, $2::int, $3::bigint WHERE $3::bigint <= $4::bigint
           ON CONFLICT (project_id, year) DO UPDATE SET raised_minor = y.raised_minor + EXCLUDED.raised_minor
           WHERE y.raised_minor + EXCLUDED.raised_minor <= $4
           RETURNING raised_minor""", project_id, year, amount, cap)
    if total is None:
        raise project_year_refusal(caps, cap, amount, currency, year) or AssertionError("refused")


async def check_investor_stage(conn: Any, user_id: UUID, stage_id: UUID, amount: int, caps: Caps,
                               currency: str) -> None:
    """Per investor and stage; safe under concurrency because the investor's year row is already locked."""
    if caps.investor_stage is None:
        return
    already = await conn.fetchval(
        "SELECT coalesce(sum(amount_minor), 0)::bigint FROM crowd_investments WHERE user_id = $1 AND stage_id = $2 "
        "AND status = 'active'", user_id, stage_id)
    refusal = investor_stage_refusal(caps, already, amount, currency)
    if refusal is not None:
        raise refusal


# -- the same rules on totals already read under lock (a batch of investments) -----------------------


def investor_year_refusal(caps: Caps, invested: int, declared: int, amount: int, currency: str,
                          year: int) -> Conflict | None:
    plain = caps.investor_year if caps.investor_year is not None else UNLIMITED
    with_declared = caps.investor_year_with_declared if caps.investor_year_with_declared is not None else UNLIMITED
    if invested + amount <= plain and invested + declared + amount <= with_declared:
        return None
    used = invested + (declared if with_declared <= plain else 0)
    return _over_investor_limit(amount, used, min(plain, with_declared), caps, currency, year)


def project_year_refusal(caps: Caps, raised: int, amount: int, currency: str, year: int) -> Conflict | None:
    cap = caps.project_year if caps.project_year is not None else UNLIMITED
    if raised + amount <= cap:
        return None
    return Conflict(_("the project may raise at most %(cap)s in %(year)s (%(rule)s); this investment would go "
                      "over it", cap=money(cap, currency), year=year, rule=caps.project_year_rule))


def investor_stage_refusal(caps: Caps, already: int, amount: int, currency: str) -> Conflict | None:
    if caps.investor_stage is None or already + amount <= caps.investor_stage:
        return None
    return Conflict(_("one investor may put at most %(cap)s into this stage (%(rule)s); you have %(already)s",
                      cap=money(caps.investor_stage, currency), rule=caps.investor_stage_rule,
                      already=money(already, currency)))


@dataclass(frozen=True)
class Allowance:
    """What an investor may still invest this year, for the portfolio and the invest form."""

    year: int
    invested_minor: int
    declared_elsewhere_minor: int
    cap_minor: int | None
    qualified: bool

    @property
    def remaining_minor(self) -> int | None:
        if self.cap_minor is None:
            return None
        return max(self.cap_minor - self.invested_minor - self.declared_elsewhere_minor, 0)

    def as_json(self) -> dict[str, Any]:
        return {"year": self.year, "invested_minor": self.invested_minor,
                "declared_elsewhere_minor": self.declared_elsewhere_minor, "cap_minor": self.cap_minor,
                "remaining_minor": self.remaining_minor, "qualified": self.qualified}
