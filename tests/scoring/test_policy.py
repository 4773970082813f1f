"""The decision policy is pure: results and a policy in, an outcome and its reasons out."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.contracts.scoring import ScoringResult, ScoringStatus
from core.money import Money
from plugins.scoring.policy import SEVERITY, DecisionPolicy, Outcome, decide


def done(provider: str, score: int | None = None, decision: str | None = None, **factors) -> ScoringResult:
    return ScoringResult(ScoringStatus.DONE, provider, score=score, decision=decision, factors=factors)


def error(provider: str) -> ScoringResult:
    return ScoringResult(ScoringStatus.ERROR, provider, error_code="timeout", retryable=True)


POLICY = DecisionPolicy.model_validate({
    "providers": {"ubki": {"approve_from": 150, "decline_below": 80}, "scorista": {"required": False}},
    "rules": [{"provider": "ubki", "factor": "mfo.overdue_amount", "above": "0", "outcome": "decline",
               "reason": "payday loans overdue now"}],
    "review_amount_above": "10000"})


def test_outcomes_by_score_rules_and_amount():
    assert decide(POLICY, {"ubki": done("ubki", 200), "scorista": None}).outcome is Outcome.APPROVE
    assert decide(POLICY, {"ubki": done("ubki", 100), "scorista": None}).outcome is Outcome.REVIEW
    low = decide(POLICY, {"ubki": done("ubki", 50), "scorista": None})
    assert low.outcome is Outcome.DECLINE and [r.code for r in low.reasons] == ["score_low"]
    overdue = decide(POLICY, {"ubki": done("ubki", 200, **{"mfo.overdue_amount": Decimal("850.00")})})
    assert overdue.outcome is Outcome.DECLINE and overdue.reasons[-1].message == "payday loans overdue now"
    assert decide(POLICY, {"ubki": None}).outcome is Outcome.PENDING
    assert decide(POLICY, {"ubki": error("ubki")}).outcome is Outcome.REVIEW
    # an optional provider counts once it answered: its decline declines
    assert decide(POLICY, {"ubki": done("ubki", 200), "scorista": done("scorista", decision="decline")}
                  ).outcome is Outcome.DECLINE
    large = decide(POLICY, {"ubki": done("ubki", 200)}, Money.of("20000", "UAH"))
    assert large.outcome is Outcome.REVIEW and large.reasons[-1].code == "large_amount"


def test_fallback_decides_by_the_first_provider_that_answered():
    policy = DecisionPolicy(fallback=True)
    results = {"ubki": error("ubki"), "mbki": done("mbki", 600), "scorista": None}
    assert list(policy.deciding(["ubki", "mbki", "scorista"], results)) == ["mbki"]
    assert list(policy.deciding(["ubki"], {"ubki": error("ubki")})) == ["ubki"]
    assert list(DecisionPolicy().deciding(["ubki", "mbki"], results)) == ["ubki", "mbki"]


@given(st.lists(st.one_of(st.none(), st.integers(0, 1000)), min_size=1, max_size=3))
def test_the_worst_reason_is_the_outcome_and_nothing_missing_approves(scores):
    names = ["ubki", "mbki", "scorista"][:len(scores)]
    policy = DecisionPolicy.model_validate({"providers": {n: {"approve_from": 500, "decline_below": 300}
                                                          for n in names}})
    results = {n: (done(n, s) if s is not None else None) for n, s in zip(names, scores, strict=True)}
    decision = decide(policy, results)
    assert decision.outcome is max((r.outcome for r in decision.reasons), key=SEVERITY.__getitem__)
    if None in scores:
        assert decision.outcome is not Outcome.APPROVE
    if all(s is not None and s >= 500 for s in scores):
        assert decision.outcome is Outcome.APPROVE
    if any(s is not None and s < 300 for s in scores):
        assert decision.outcome is Outcome.DECLINE
