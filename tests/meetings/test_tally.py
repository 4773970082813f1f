"""Weighted quorum and majorities against the rule table, checked by an independent reference.

The reference below re-reads the table of meetings.md §1.4 on its own terms (Fractions and
"share of the base" comparisons, where the plugin cross-multiplies integers), so a slip in
either shows up as a disagreement. Hypothesis draws registers, attendance and ballots; the
scenario matrix walks the five scenarios through every stage with the boundary cases.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugins.meetings.ballots import BallotError, build_form, normalise
from plugins.meetings.rules import RULES, Claim, Stage, rule, weights
from plugins.meetings.tally import Voter, percent, quorum, tally, top_seats

# -- the reference -------------------------------------------------------------------------------

#: decision -> (base, share, "more" than / "at least", every secured creditor must vote for)
TABLE = {
    "general": ("present", Fraction(1, 2), "more", False),
    "committee_formation": ("total", Fraction(1, 2), "more", False),
    "procedure_choice": ("total", Fraction(1, 2), "more", False),
    "manager_choice": ("total", Fraction(1, 2), "more", False),
    "settlement": ("total", Fraction(1, 2), "more", True),
    "asset_substitution": ("total", Fraction(3, 4), "at least", True),
    "restructuring_plan": ("total", Fraction(1, 2), "more", False),
    "committee_competence": ("present", Fraction(1, 2), "more", False),
}


def reference_weight(claim: Claim, stage: Stage, all_late: bool) -> int:
    if claim.late and not all_late:
        return 0
    if stage.value in ("observation", "restructuring"):
        return claim.principal_minor
    if claim.pledge_waived:
        return claim.principal_minor
    return max(claim.principal_minor - claim.secured_minor, 0)


def reference(decision, kind, options, seats, claims, stage, present, ballots):
    all_late = all(c.late for c in claims)
    w = {c.creditor_id: reference_weight(c, stage, all_late) for c in claims}
    attending = set(present) | set(ballots)
    notified = sum(w[c.creditor_id] for c in claims if c.notified)
    here = sum(w[c] for c in attending)
    if notified == 0 or not Fraction(here, notified) > Fraction(1, 2):
        return "no_quorum", None
    if decision == "committee_election":
        totals = [0] * len(options)
        for choice in ballots.values():
            for i, v in choice.get("allocation", {}).items():
                totals[int(i)] += v
        order = sorted(range(len(totals)), key=lambda i: -totals[i])
        winners = [i for i in order if totals[i] > 0]
        if len(winners) > seats and totals[winners[seats - 1]] == totals[winners[seats]]:
            cut = totals[winners[seats]]
            winners = [i for i in winners if totals[i] > cut]
        else:
            winners = winners[:seats]
        return ("elected" if winners else "no_decision"), sorted(winners)
    base_kind, share, how, unanimity = TABLE[decision]
    base = here if base_kind == "present" else sum(w.values())

    def enough(votes):
        if base == 0:
            return False
        return Fraction(votes, base) > share if how == "more" else Fraction(votes, base) >= share

    secured_ok = True
    if unanimity:
        secured = [c.creditor_id for c in claims if c.secured_minor > 0 and not c.pledge_waived]
        secured_ok = all(ballots.get(c, {}).get("vote") == "for" for c in secured)
    if kind == "binary":
        votes = sum(w[c] for c, b in ballots.items() if b.get("vote") == "for")
        return ("adopted" if enough(votes) and secured_ok else "rejected"), None
    per_option = [sum(w[c] for c, b in ballots.items() if b.get("option") == i) for i in range(len(options))]
    winners = [i for i, v in enumerate(per_option) if enough(v)]
    return ("adopted", winners[0]) if len(winners) == 1 else ("no_decision", None)


def run_plugin(decision, kind, options, seats, claims, stage, present, ballots):
    r = rule(decision)
    form_kind = {"binary": "settlement" if decision == "settlement" else "yes_no", "single": "alternatives",
                 "cumulative": "cumulative"}[kind]
    form = build_form(r, form_kind, options=options, seats=seats)
    w = weights(claims, stage)
    voters = {c.creditor_id: Voter(w[c.creditor_id], c.is_secured, c.notified) for c in claims}
    q = quorum(voters, set(present) | set(ballots))
    result = tally(r, form, voters, set(present), ballots, quorum_reached=q.reached)
    detail = result.elected if decision == "committee_election" else result.decided_option
    return result, (result.outcome, detail if result.outcome != "no_quorum" else None)


# -- strategies ----------------------------------------------------------------------------------

amounts = st.one_of(st.integers(0, 1_000), st.integers(0, 10**12), st.sampled_from([0, 1, 100, 10**11]))


@st.composite
def claims_st(draw, n_min=1, n_max=7):
    n = draw(st.integers(n_min, n_max))
    out = []
    for i in range(n):
        principal = draw(amounts)
        secured = draw(st.one_of(st.just(0), st.integers(0, principal)))
        out.append(Claim(f"c{i}", principal, draw(st.integers(0, 10**6)), secured, draw(st.booleans()),
                         draw(st.booleans()) and draw(st.booleans()), draw(st.booleans()) or draw(st.booleans())))
    return out


@st.composite
def meeting_st(draw):
    decision = draw(st.sampled_from(sorted(RULES)))
    if decision == "committee_election":
        kind = "cumulative"
    elif decision in ("settlement", "asset_substitution"):
        kind = "binary"
    else:
        kind = draw(st.sampled_from(["binary", "single"]))
    options = [f"option {i}" for i in range(draw(st.integers(2, 5)))] if kind != "binary" else []
    seats = draw(st.integers(1, len(options))) if kind == "cumulative" else None
    claims = draw(claims_st())
    stage = draw(st.sampled_from(list(Stage)))
    ids = [c.creditor_id for c in claims]
    present = set(draw(st.lists(st.sampled_from(ids), unique=True)))
    w = weights(claims, stage)
    ballots = {}
    for creditor in sorted(present):
        if not draw(st.booleans()) and draw(st.booleans()):
            continue  # present, did not vote on this item
        if kind == "binary":
            ballots[creditor] = {"vote": draw(st.sampled_from(["for", "against", "abstain"]))}
        elif kind == "single":
            ballots[creditor] = draw(st.sampled_from([{"option": i} for i in range(len(options))]
                                                     + [{"vote": "against"}, {"vote": "abstain"}]))
        else:
            budget = w[creditor] * seats
            picks = draw(st.lists(st.integers(0, len(options) - 1), min_size=1, max_size=seats, unique=True))
            split = draw(st.lists(st.integers(0, max(budget, 0)), min_size=len(picks), max_size=len(picks)))
            allocation, left = {}, budget
            for pick, want in zip(picks, split, strict=True):
                give = min(want, left)
                left -= give
                if give:
                    allocation[str(pick)] = give
            ballots[creditor] = {"allocation": allocation} if allocation else {"vote": "abstain"}
    return decision, kind, options, seats, claims, stage, present, ballots


# -- properties ------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meeting_st())
def test_plugin_agrees_with_the_reference(case):
    _result, outcome = run_plugin(*case)
    assert outcome == reference(*case)


@settings(max_examples=200, deadline=None)
@given(meeting_st(), st.randoms())
def test_invariants_and_order_independence(case, rnd):
    decision, kind, options, seats, claims, stage, present, ballots = case
    result, outcome = run_plugin(*case)
    counted = result.votes_for + result.against + result.abstain + result.invalid + sum(
        result.options if kind == "single" else [])
    assert counted <= result.present_weight <= result.total_weight
    assert all(isinstance(v, int) for v in (result.base_weight, result.votes_for, *result.options))
    shuffled = list(ballots.items())
    rnd.shuffle(shuffled)
    _again, outcome_again = run_plugin(decision, kind, options, seats, claims, stage, present, dict(shuffled))
    assert outcome_again == outcome


@given(claims_st(), st.sampled_from(list(Stage)))
def test_weights_never_exceed_principal_and_ignore_penalties(claims, stage):
    w = weights(claims, stage)
    for c in claims:
        assert 0 <= w[c.creditor_id] <= c.principal_minor
    bumped = [Claim(c.creditor_id, c.principal_minor, c.penalty_minor + 10**9, c.secured_minor, c.pledge_waived,
                    c.late, c.notified) for c in claims]
    assert weights(bumped, stage) == w


# -- the boundaries, by hand ---------------------------------------------------------------------------


def two(a: int, b: int, **kw) -> list[Claim]:
    return [Claim("a", a, **kw), Claim("b", b)]


def outcome(decision, kind, claims, stage, present, ballots, options=(), seats=None):
    return run_plugin(decision, kind, list(options), seats, claims, stage, set(present), ballots)[1][0]


def test_exactly_half_is_not_a_majority_and_one_kopeck_more_is():
    for_a = {"a": {"vote": "for"}, "b": {"vote": "against"}}
    assert outcome("general", "binary", two(500, 500), Stage.OBSERVATION, "ab", for_a) == "rejected"
    assert outcome("general", "binary", two(501, 500), Stage.OBSERVATION, "ab", for_a) == "adopted"
    assert outcome("procedure_choice", "binary", two(500, 500), Stage.OBSERVATION, "ab", for_a) == "rejected"


def test_quorum_is_strictly_more_than_half_of_the_notified_votes():
    claims = two(500, 500)
    assert outcome("general", "binary", claims, Stage.OBSERVATION, "a", {"a": {"vote": "for"}}) == "no_quorum"
    claims = two(501, 500)
    assert outcome("general", "binary", claims, Stage.OBSERVATION, "a", {"a": {"vote": "for"}}) == "adopted"
    # b was never notified: the quorum counts only the notified, b's votes are out of the denominator
    claims = [Claim("a", 100), Claim("b", 10_000, notified=False)]
    assert quorum({"a": Voter(100), "b": Voter(10_000, notified=False)}, {"a"}).reached
    # ... yet an absolute majority still counts every registered vote
    assert outcome("procedure_choice", "binary", claims, Stage.OBSERVATION, "a", {"a": {"vote": "for"}}) == "rejected"


def test_absolute_majority_counts_the_absent():
    claims = [Claim("a", 60), Claim("b", 30), Claim("c", 10)]
    ballots = {"a": {"vote": "for"}, "b": {"vote": "against"}}
    assert outcome("general", "binary", claims, Stage.OBSERVATION, "ab", ballots) == "adopted"
    assert outcome("procedure_choice", "binary", claims, Stage.OBSERVATION, "ab", ballots) == "adopted"
    ballots = {"a": {"vote": "abstain"}, "b": {"vote": "for"}}
    assert outcome("general", "binary", claims, Stage.OBSERVATION, "ab", ballots) == "rejected"  # abstain is not for


def test_secured_creditors_vote_by_stage_and_by_waiver():
    bank = Claim("bank", 1_000, secured_minor=800)
    assert weights([bank], Stage.OBSERVATION)["bank"] == 1_000
    for stage in (Stage.REHABILITATION, Stage.EXTERNAL_ADMINISTRATION, Stage.LIQUIDATION, Stage.REALIZATION):
        assert weights([bank], stage)["bank"] == 200  # only the unsecured remainder
    waived = Claim("bank", 1_000, secured_minor=800, pledge_waived=True)
    assert weights([waived], Stage.LIQUIDATION)["bank"] == 1_000


def test_settlement_needs_every_secured_creditor():
    claims = [Claim("bank", 100, secured_minor=100), Claim("a", 900)]
    yes = {"a": {"vote": "for"}}
    # in liquidation the bank's pledge does not vote, but its "for" is still required
    assert outcome("settlement", "binary", claims, Stage.LIQUIDATION, ["a", "bank"], yes) == "rejected"
    yes["bank"] = {"vote": "for"}
    assert outcome("settlement", "binary", claims, Stage.LIQUIDATION, ["a", "bank"], yes) == "adopted"
    yes["bank"] = {"vote": "abstain"}
    assert outcome("settlement", "binary", claims, Stage.LIQUIDATION, ["a", "bank"], yes) == "rejected"


def test_asset_substitution_needs_three_quarters_at_least():
    claims = [Claim("a", 75), Claim("b", 25)]
    ballots = {"a": {"vote": "for"}, "b": {"vote": "against"}}
    assert outcome("asset_substitution", "binary", claims, Stage.LIQUIDATION, "ab", ballots) == "adopted"
    claims = [Claim("a", 74), Claim("b", 26)]
    assert outcome("asset_substitution", "binary", claims, Stage.LIQUIDATION, "ab", ballots) == "rejected"


def test_late_claims_vote_only_when_everyone_is_late():
    claims = [Claim("a", 100, late=True), Claim("b", 50)]
    assert weights(claims, Stage.OBSERVATION) == {"a": 0, "b": 50}
    claims = [Claim("a", 100, late=True), Claim("b", 50, late=True)]
    assert weights(claims, Stage.OBSERVATION) == {"a": 100, "b": 50}


def test_a_single_creditor_decides_alone():
    assert outcome("procedure_choice", "binary", [Claim("a", 1)], Stage.OBSERVATION, "a",
                   {"a": {"vote": "for"}}) == "adopted"


def test_alternatives_need_one_option_over_the_base():
    claims = [Claim("a", 40), Claim("b", 35), Claim("c", 25)]
    ballots = {"a": {"option": 0}, "b": {"option": 1}, "c": {"option": 1}}
    assert outcome("manager_choice", "single", claims, Stage.OBSERVATION, "abc", ballots, ["X", "Y"]) == "adopted"
    ballots["c"] = {"option": 0}
    result, _ = run_plugin("manager_choice", "single", ["X", "Y"], None, claims, Stage.OBSERVATION, set("abc"),
                           ballots)
    assert result.decided_option == 0 and result.options == [65, 35]
    ballots = {"a": {"option": 0}, "b": {"option": 1}, "c": {"vote": "abstain"}}
    assert outcome("manager_choice", "single", claims, Stage.OBSERVATION, "abc", ballots, ["X", "Y"]) == "no_decision"


def test_cumulative_election_and_a_tie_at_the_last_seat():
    assert top_seats([50, 30, 30, 0], 2) == ([0], [1, 2])
    assert top_seats([50, 30, 20, 0], 2) == ([0, 1], [])
    assert top_seats([0, 0, 5], 2) == ([2], [])
    claims = [Claim("a", 100), Claim("b", 60)]
    ballots = {"a": {"allocation": {"0": 200}}, "b": {"allocation": {"1": 60, "2": 60}}}
    result, (status, elected) = run_plugin("committee_election", "cumulative", ["A", "B", "C"], 2, claims,
                                           Stage.LIQUIDATION, {"a", "b"}, ballots)
    assert status == "elected" and elected == [0] and result.tied == [1, 2]


def test_answers_are_normalised_and_bounded():
    form = build_form(rule("committee_election"), "cumulative", options=["A", "B"], seats=2)
    answer = normalise(form, {"allocation": {"1": "10", "0": 5}}, votes_available=15)
    assert answer.choice == {"allocation": {"0": 5, "1": 10}}
    with pytest.raises(BallotError, match="only 14 are yours"):
        normalise(form, {"allocation": {"0": 15}}, votes_available=14)
    with pytest.raises(BallotError):
        build_form(rule("settlement"), "alternatives", options=["x", "y"])
    with pytest.raises(BallotError):
        build_form(rule("general"), "cumulative", options=["x"], seats=1)
    number = build_form(rule("committee_formation"), "number", minimum=3, maximum=11)
    assert number.options[0] == "3" and len(number.options) == 9
    assert percent(Fraction(2, 3)) == "66.67"


# -- the scenario matrix: 5 scenarios x 6 stages x pledges x boundaries -----------------------------------


def test_scenario_matrix_matches_the_reference():
    cases = 0
    scenarios = [("general", "binary"), ("procedure_choice", "binary"), ("settlement", "binary"),
                 ("manager_choice", "single"), ("committee_election", "cumulative")]
    pledges = [dict(), dict(secured_minor=300), dict(secured_minor=300, pledge_waived=True)]
    boundaries = [0, 1, -1]  # for-votes exactly half, one kopeck over, one under
    extras = [dict(), dict(late=True), dict(notified=False)]
    for (decision, kind), stage, pledge, delta, extra in itertools.product(scenarios, Stage, pledges, boundaries,
                                                                           extras):
        claims = [Claim("bank", 600, **pledge), Claim("a", 300 + delta, **extra), Claim("b", 300)]
        options = ["X", "Y", "Z"] if kind != "binary" else []
        seats = 2 if kind == "cumulative" else None
        w = weights(claims, stage)
        if kind == "binary":
            ballots = {"bank": {"vote": "for"}, "a": {"vote": "for"}, "b": {"vote": "against"}}
        elif kind == "single":
            ballots = {"bank": {"option": 0}, "a": {"option": 0}, "b": {"option": 1}}
        else:
            ballots = {c: {"allocation": {str(i % 3): w[c] * 2}} for i, c in enumerate(("bank", "a", "b"))
                       if w[c]}
        present = {"bank", "a", "b"}
        case = (decision, kind, options, seats, claims, stage, present, ballots)
        assert run_plugin(*case)[1] == reference(*case), case
        cases += 1
    assert cases >= 300
