"""Counting: the quorum of a meeting and the result of each agenda item, exactly.

Weights are integer kopecks and every comparison is done in integers (``for * 2 > base``);
shares are :class:`fractions.Fraction` and become decimals only to be printed. Ballots are
counted as a mapping, so their order cannot change a result. Pure functions: the service
feeds them the frozen vote base and the ballots, tests feed them anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

from plugins.meetings.ballots import ItemForm, Shape
from plugins.meetings.rules import Base, Rule, has_quorum


@dataclass(frozen=True)
class Voter:
    """A creditor of the vote base, as one item sees it."""

    weight: int
    #: Holds a pledge it has not given up: its "for" is needed where the rule asks for unanimity.
    secured: bool = False
    notified: bool = True


@dataclass(frozen=True)
class Quorum:
    present_weight: int
    #: Votes of the duly notified creditors with voting rights (art. 12 p.4).
    notified_weight: int
    total_weight: int
    reached: bool

    @property
    def share(self) -> Fraction:
        return Fraction(self.present_weight, self.notified_weight) if self.notified_weight else Fraction(0)


def quorum(voters: Mapping[str, Voter], present: set[str]) -> Quorum:
    present_weight = sum(v.weight for c, v in voters.items() if c in present)
    notified_weight = sum(v.weight for v in voters.values() if v.notified)
    total = sum(v.weight for v in voters.values())
    return Quorum(present_weight, notified_weight, total, has_quorum(present_weight, notified_weight))


@dataclass
class ItemResult:
    outcome: str  # adopted | rejected | no_decision | elected | no_quorum
    base: str
    base_weight: int
    present_weight: int
    total_weight: int
    votes_for: int = 0
    against: int = 0
    abstain: int = 0
    invalid: int = 0
    #: Votes per option (single choice) or per candidate (cumulative).
    options: list[int] = field(default_factory=list)
    decided_option: int | None = None
    elected: list[int] = field(default_factory=list)
    #: Candidates tied for the last seats, none of whom is elected.
    tied: list[int] = field(default_factory=list)
    #: None when the rule does not ask for it.
    secured_unanimity: bool | None = None
    secured_missing: list[str] = field(default_factory=list)
    ballots: int = 0

    def share(self, votes: int) -> Fraction:
        return Fraction(votes, self.base_weight) if self.base_weight else Fraction(0)

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items()}
        data["shares"] = {
            "for": str(self.share(self.votes_for)),
            "against": str(self.share(self.against)),
            "abstain": str(self.share(self.abstain)),
            "options": [str(self.share(v)) for v in self.options],
        }
        return data


def percent(share: Fraction, places: int = 2) -> str:
    """A share as a percentage for people to read (rounded half-even; only ever printed)."""
    value = Decimal(share.numerator * 100) / Decimal(share.denominator) if share.denominator else Decimal(0)
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def tally(rule: Rule, form: ItemForm, voters: Mapping[str, Voter], present: set[str],
          ballots: Mapping[str, Mapping[str, Any]], *, quorum_reached: bool = True) -> ItemResult:
    """The result of one item.

    ``voters`` is the vote base (creditor id -> weight at this stage), ``present`` who is at the
    meeting (absentee: whose ballot came in time), ``ballots`` creditor id -> canonical choice
    (see :mod:`plugins.meetings.ballots`). Ballots of creditors outside the base count for nothing.
    """
    counted = {c: b for c, b in ballots.items() if c in voters}
    attending = set(present) | set(counted)
    present_weight = sum(v.weight for c, v in voters.items() if c in attending)
    total_weight = sum(v.weight for v in voters.values())
    base_weight = present_weight if rule.base is Base.PRESENT else total_weight
    result = ItemResult("rejected", rule.base.value, base_weight, present_weight, total_weight,
                        ballots=len(counted))
    if form.shape is not Shape.BINARY:
        result.options = [0] * len(form.options)
    for creditor, choice in counted.items():
        weight = voters[creditor].weight
        if choice.get("invalid"):
            result.invalid += weight
        elif choice.get("vote") == "abstain":
            result.abstain += weight
        elif choice.get("vote") == "against":
            result.against += weight
        elif choice.get("vote") == "for":
            result.votes_for += weight
        elif "option" in choice:
            result.options[int(choice["option"])] += weight
        elif "allocation" in choice:
            for index, votes in choice["allocation"].items():
                result.options[int(index)] += int(votes)
    if rule.secured_unanimity:
        secured = sorted(c for c, v in voters.items() if v.secured)
        result.secured_missing = [c for c in secured if counted.get(c, {}).get("vote") != "for"]
        result.secured_unanimity = not result.secured_missing
    if not quorum_reached:
        result.outcome = "no_quorum"
        return result
    if form.shape is Shape.BINARY:
        adopted = rule.passes(result.votes_for, base_weight) and result.secured_unanimity is not False
        result.outcome = "adopted" if adopted else "rejected"
    elif form.shape is Shape.SINGLE:
        passing = [i for i, votes in enumerate(result.options) if rule.passes(votes, base_weight)]
        if len(passing) == 1 and result.secured_unanimity is not False:
            result.decided_option = passing[0]
            result.outcome = "adopted"
        else:
            result.outcome = "no_decision"
    else:
        result.elected, result.tied = top_seats(result.options, form.seats)
        result.outcome = "elected" if result.elected else "no_decision"
    return result


def top_seats(votes: list[int], seats: int) -> tuple[list[int], list[int]]:
    """The candidates with the most votes, ``seats`` of them; a tie across the last seat elects none of the tied.

    Candidates without a vote are never elected.
    """
    ranked = sorted((i for i, v in enumerate(votes) if v > 0), key=lambda i: (-votes[i], i))
    if len(ranked) <= seats:
        return sorted(ranked), []
    boundary = votes[ranked[seats - 1]]
    if votes[ranked[seats]] != boundary:
        return sorted(ranked[:seats]), []
    elected = [i for i in ranked if votes[i] > boundary]
    tied = [i for i in ranked if votes[i] == boundary]
    return sorted(elected), sorted(tied)
