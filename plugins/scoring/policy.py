"""The decision policy: provider results in, approve / decline / review out (or pending).

Configured in ``[plugins.scoring.policy]``:

* which providers, in which order: the keys of ``providers`` (empty: every enabled one);
* ``fallback``: ask them one at a time, in that order, and stop at the first that answers
  (a report, or no data); an error moves on to the next. Without it every provider is
  asked and every answer counts;
* per provider (``[plugins.scoring.policy.providers.ubki]``): whether the decision needs it
  (``required``), score thresholds (``approve_from``, ``decline_below``; in between is
  review), whether the provider's own recommendation counts (``follow_provider``), and what
  no data and an error mean (``on_no_data``, ``on_error``);
* factor rules (``[[plugins.scoring.policy.rules]]``): a test on one named fact of a report
  (``mfo.max_delay_days`` above 30, ``mfo.overdue_amount`` above 0...) and its outcome;
* ``review_amount_above``: loans larger than this always go to a person.

Outcomes combine by severity: any decline declines; otherwise anything still pending
makes the whole pending; otherwise any review sends it to a person; only a clean sheet
approves. A score with no thresholds to judge it by is a review, never an approval.
:func:`decide` is pure: the same results and policy give the same decision and reasons.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.contracts.scoring import ScoringResult, ScoringStatus
from core.money import Money


class Outcome(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    PENDING = "pending"
    DECLINE = "decline"


#: How bad an outcome is: the worst one found is the decision.
SEVERITY = {Outcome.APPROVE: 0, Outcome.REVIEW: 1, Outcome.PENDING: 2, Outcome.DECLINE: 3}

Verdict = Literal["approve", "review", "decline"]


class ProviderPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The decision waits for this provider and cannot approve without its answer.
    required: bool = True
    #: A score at or above this approves; below ``decline_below`` declines; in between: review.
    approve_from: int | None = None
    decline_below: int | None = None
    #: The provider's own recommendation ("decline", "review") counts.
    follow_provider: bool = True
    on_no_data: Verdict = "review"
    on_error: Verdict = "review"
    #: Reuse this provider's report about the same person for this many days (None: the
    #: service's ``cache_days``; 0: never).
    cache_days: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ProviderPolicy:
        if self.approve_from is not None and self.decline_below is not None and self.decline_below > self.approve_from:
            raise ValueError("decline_below must not be above approve_from")
        return self


class FactorRule(BaseModel):
    """``outcome`` when the factor of the provider's report is above / below / equal to a value."""

    model_config = ConfigDict(extra="forbid")

    provider: str
    factor: str
    above: Decimal | None = None
    below: Decimal | None = None
    equals: str | None = None
    outcome: Verdict
    #: What staff see, e.g. "payday loans overdue now".
    reason: str = ""

    @model_validator(mode="after")
    def _one_test(self) -> FactorRule:
        if sum(x is not None for x in (self.above, self.below, self.equals)) != 1:
            raise ValueError(f"rule on {self.factor}: give exactly one of above, below, equals")
        return self

    def matches(self, value: object) -> bool:
        if self.equals is not None:
            return str(value).lower() == self.equals.lower()
        try:
            number = Decimal(str(int(value) if isinstance(value, bool) else value))
        except (InvalidOperation, ValueError):
            return False
        if self.above is not None:
            return number > self.above
        return self.below is not None and number < self.below


class DecisionPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Providers the decision uses, by name, in the order they are asked; empty: every
    #: enabled provider, with the defaults.
    providers: dict[str, ProviderPolicy] = Field(default_factory=dict)
    #: Ask the providers one at a time and stop at the first that answers (see the module doc).
    fallback: bool = False
    rules: list[FactorRule] = Field(default_factory=list)
    #: Loans above this amount (in the loan's currency units) always go to a person.
    review_amount_above: Decimal | None = None

    def for_provider(self, name: str) -> ProviderPolicy:
        return self.providers.get(name) or ProviderPolicy()

    def provider_names(self, enabled: list[str]) -> list[str]:
        return [n for n in self.providers if n in enabled] if self.providers else list(enabled)

    def deciding(self, names: list[str], results: Mapping[str, ScoringResult | None]
                 ) -> dict[str, ScoringResult | None]:
        """The results the decision rests on, in policy order (with ``fallback``, the walk's stop).

        ``names`` are the providers of the decision in order; ``results`` their latest answers
        (missing or None: not asked). With ``fallback`` the first provider that is still
        waiting or that answered decides alone; when every one failed, their errors decide.
        """
        ordered = {name: results.get(name) for name in names}
        if not self.fallback:
            return ordered
        for name, result in ordered.items():
            if result is None or result.status is not ScoringStatus.ERROR:
                return {name: result}
        return ordered

    @property
    def digest(self) -> str:
        """Identifies this policy in the decisions it made (a changed policy gets a new digest)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Reason:
    provider: str
    code: str
    outcome: Outcome
    message: str

    def as_json(self) -> dict[str, str]:
        return {"provider": self.provider, "code": self.code, "outcome": self.outcome.value, "message": self.message}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def _judge_score(name: str, rule: ProviderPolicy, score: int | None) -> Reason:
    if score is None or (rule.approve_from is None and rule.decline_below is None):
        return Reason(name, "no_threshold" if score is not None else "no_score", Outcome.REVIEW,
                      "no score thresholds to judge by" if score is not None else "the answer carries no score")
    if rule.decline_below is not None and score < rule.decline_below:
        return Reason(name, "score_low", Outcome.DECLINE, f"score {score} is below {rule.decline_below}")
    if rule.approve_from is not None and score >= rule.approve_from:
        return Reason(name, "score_ok", Outcome.APPROVE, f"score {score} is at least {rule.approve_from}")
    return Reason(name, "score_between", Outcome.REVIEW, f"score {score} is between the thresholds")


def judge(name: str, rule: ProviderPolicy, result: ScoringResult | None, rules: list[FactorRule]) -> list[Reason]:
    """What one provider's result says under the policy."""
    if result is None or result.status is ScoringStatus.PENDING:
        return [Reason(name, "pending", Outcome.PENDING, "waiting for the answer")]
    if result.status is ScoringStatus.ERROR:
        return [Reason(name, "error", Outcome(rule.on_error), f"no answer: {result.error_code or result.error}")]
    if result.status is ScoringStatus.NO_DATA:
        return [Reason(name, "no_data", Outcome(rule.on_no_data), "the provider knows nothing of the applicant")]
    reasons = []
    if rule.follow_provider and result.decision in ("decline", "review"):
        reasons.append(Reason(name, f"provider_{result.decision}", Outcome(result.decision),
                              f"the provider recommends: {result.decision}"))
    if rule.follow_provider and result.decision == "approve" and rule.approve_from is None and \
            rule.decline_below is None:
        reasons.append(Reason(name, "provider_approve", Outcome.APPROVE, "the provider recommends: approve"))
    else:
        reasons.append(_judge_score(name, rule, result.score))
    for factor_rule in rules:
        if factor_rule.provider == name and factor_rule.factor in result.factors and \
                factor_rule.matches(result.factors[factor_rule.factor]):
            reasons.append(Reason(name, f"rule:{factor_rule.factor}", Outcome(factor_rule.outcome),
                                  factor_rule.reason or f"{factor_rule.factor} = {result.factors[factor_rule.factor]}"))
    return reasons


def decide(policy: DecisionPolicy, results: Mapping[str, ScoringResult | None], amount: Money | None = None
           ) -> Decision:
    """The decision for one application from its providers' latest results.

    ``results`` has an entry for every provider the policy uses (None: not asked yet).
    Providers that are not ``required`` count only when they answered.
    """
    reasons: list[Reason] = []
    for name, result in results.items():
        rule = policy.for_provider(name)
        if not rule.required and (result is None or not result.final or result.status is not ScoringStatus.DONE):
            continue
        reasons.extend(judge(name, rule, result, policy.rules))
    if not reasons:
        reasons.append(Reason("", "no_providers", Outcome.REVIEW, "no provider answered for this decision"))
    if amount is not None and policy.review_amount_above is not None and amount.amount > policy.review_amount_above:
        reasons.append(Reason("", "large_amount", Outcome.REVIEW,
                              f"{amount} is above {policy.review_amount_above} {amount.currency}"))
    outcome = max((r.outcome for r in reasons), key=SEVERITY.__getitem__)
    return Decision(outcome, tuple(reasons))
