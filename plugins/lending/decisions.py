"""Automatic decisions on applications: the configured rules in order, the first that fails decides.

The scoring plugin is optional: :func:`scoring_outcome` is the only place that knows it, and it
answers ``None`` (the rule is skipped) when the platform has no scoring service or the
application gives no names to build an applicant from.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.money import Money, to_minor

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.lending.settings import DecisionRule, LendingSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    #: "approved", "rejected" or "submitted" (left to a person).
    status: str
    reason: str


@dataclass(frozen=True)
class Applicant:
    """What the rules look at."""

    user_id: uuid.UUID
    application_id: uuid.UUID
    amount_minor: int
    term_days: int
    currency: str
    repaid_loans: int
    open_loans: int
    max_overdue_days: int
    names: dict[str, Any]


async def applicant(platform: Platform, application: Any, names: dict[str, Any]) -> Applicant:
    row = await platform.db.fetchrow(
        """SELECT count(*) FILTER (WHERE status = 'repaid') AS repaid,
                  count(*) FILTER (WHERE status <> 'repaid') AS open,
                  coalesce(max(max_overdue_days), 0) AS overdue
           FROM lending_loans WHERE user_id = $1""", application["user_id"])
    return Applicant(application["user_id"], application["id"], application["amount_minor"],
                     application["term_days"], application["currency"], row["repaid"], row["open"], row["overdue"],
                     names)


async def scoring_outcome(platform: Platform, who: Applicant) -> str | None:
    """The scoring service's outcome (approve, decline, review, pending), or None when there is none to ask."""
    try:
        from plugins.scoring.service import ScoringService
    except ImportError:
        return None
    if not platform.has_service(ScoringService) or not (who.names.get("last_name") and who.names.get("first_name")):
        return None
    scoring = platform.service(ScoringService)
    try:
        person = await scoring.applicant_of_user(
            who.user_id, last_name=who.names["last_name"], first_name=who.names["first_name"],
            middle_name=who.names.get("middle_name", ""), birth_date=who.names.get("birth_date"))
        assessment = await scoring.assess(
            f"lending-application:{who.application_id}", person, consent_ref=f"lending-application:{who.application_id}",
            amount=Money(who.amount_minor, who.currency), term_days=who.term_days, user_id=who.user_id)
    except Exception as exc:  # a refusal of the applicant's data is a matter for a person, not a crash
        log.warning("scoring of application %s failed: %s", who.application_id, exc)
        return "review"
    return str(assessment.outcome)


async def check(platform: Platform, rule: DecisionRule, who: Applicant, currency: str) -> str | None:
    """Why ``who`` fails ``rule`` (or None when it passes or does not apply)."""
    if rule.only_first_loan and who.repaid_loans:
        return None
    if rule.kind == "max_open_loans" and who.open_loans > rule.value:
        return f"{who.open_loans} loan(s) not repaid yet"
    if rule.kind == "max_amount" and who.amount_minor > to_minor(rule.value, currency):
        return f"the amount is over {rule.value} {currency}"
    if rule.kind == "max_overdue_days_ever" and who.max_overdue_days > rule.value:
        return f"a past loan was {who.max_overdue_days} days overdue"
    if rule.kind == "scoring":
        outcome = await scoring_outcome(platform, who)
        if outcome == "decline":
            return "the scoring service declined"
        if outcome in ("review", "pending"):
            return "manual:the scoring service asks for a review"
    return None


async def decide(platform: Platform, settings: LendingSettings, who: Applicant) -> Decision:
    for number, rule in enumerate(settings.decision_rules, start=1):
        failure = await check(platform, rule, who, settings.currency)
        if failure is None:
            continue
        if failure.startswith("manual:"):
            return Decision("submitted", failure.removeprefix("manual:"))
        status = "rejected" if rule.action == "reject" else "submitted"
        return Decision(status, f"rule {number} ({rule.kind}): {failure}")
    if settings.auto_approve:
        return Decision("approved", "every rule passed")
    return Decision("submitted", "waiting for a person (auto_approve is off)")


def birth_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
