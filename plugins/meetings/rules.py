"""The rule table of creditors' meetings under 127-FZ: who votes, with what weight, and what majority
each decision needs.

These are code constants on purpose: the meeting itself may not change a majority (art. 15 p.1 allows
"otherwise" only "by this Federal Law"), so no organizer can edit them. Each row carries its citation
and how sure we are of it: ``V`` was checked against a quoted excerpt of the statute, ``K`` is the
standard text as known and must be checked against an official edition before it is relied on (see
``/work/shared/reference/meetings.md`` §1 and the README). ``EDITION`` names the reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

#: The reading of the law this table reflects; printed in every protocol.
EDITION = "127-FZ «О несостоятельности (банкротстве)», read 2026-11 (rows marked K: verify)"

HALF = Fraction(1, 2)
THREE_QUARTERS = Fraction(3, 4)


class Stage(StrEnum):
    """The bankruptcy procedure the debtor is in on the meeting date."""

    OBSERVATION = "observation"  # наблюдение
    REHABILITATION = "rehabilitation"  # финансовое оздоровление
    EXTERNAL_ADMINISTRATION = "external_administration"  # внешнее управление
    LIQUIDATION = "liquidation"  # конкурсное производство
    RESTRUCTURING = "restructuring"  # реструктуризация долгов гражданина
    REALIZATION = "realization"  # реализация имущества гражданина


STAGE_LABELS = {
    Stage.OBSERVATION: "Observation",
    Stage.REHABILITATION: "Financial rehabilitation",
    Stage.EXTERNAL_ADMINISTRATION: "External administration",
    Stage.LIQUIDATION: "Bankruptcy liquidation (konkursnoe proizvodstvo)",
    Stage.RESTRUCTURING: "Debt restructuring (individual)",
    Stage.REALIZATION: "Sale of assets (individual)",
}

#: Stages in which a secured (pledge) creditor votes with its whole claim (art. 12 p.1).
SECURED_VOTE_STAGES = frozenset({Stage.OBSERVATION, Stage.RESTRUCTURING})


class Base(StrEnum):
    """What a majority is counted from."""

    #: Votes of the creditors present (registered; in absentee form: whose ballots came in time).
    PRESENT = "present"
    #: Every vote of the register with voting rights at this stage.
    TOTAL = "total"


class Scenario(StrEnum):
    """The five ways a decision is reached (the voting scenarios)."""

    SIMPLE = "simple"  # S1: for > 1/2 of present
    ABSOLUTE = "absolute"  # S2: for > 1/2 of total
    SECURED_UNANIMITY = "secured_unanimity"  # S3: S2 (or 3/4) and every secured creditor for
    ALTERNATIVES = "alternatives"  # S4: one option must pass the base
    CUMULATIVE = "cumulative"  # S5: votes = weight x seats, top N elected


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    scenario: Scenario
    base: Base
    #: The share of the base "for" must pass.
    threshold: Fraction
    #: True: "more than" the threshold (every "majority" in the law); False: "at least" (3/4 rules).
    strict: bool
    #: Every secured creditor must vote "for" as well.
    secured_unanimity: bool
    #: Exclusive competence of the meeting (art. 12 p.2): cannot be handed to the committee.
    exclusive: bool
    cite: str
    #: "V" verified from a quoted excerpt, "K" the known standard text: verify before relying on it.
    status: str
    #: Stages in which the question can be on the agenda (None: any).
    stages: frozenset[Stage] | None = None
    #: A representative needs a power of attorney that names this question specifically (art. 150 p.2).
    special_authority: bool = False

    def passes(self, votes_for: int, base: int) -> bool:
        """Exact comparison in integers: ``for / base > threshold`` (or ``>=``), never floats."""
        if base <= 0:
            return False
        lhs = votes_for * self.threshold.denominator
        rhs = base * self.threshold.numerator
        return lhs > rhs if self.strict else lhs >= rhs


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("general", "Any other agenda item (reports, sale procedure, where to meet)", Scenario.SIMPLE,
             Base.PRESENT, HALF, True, False, False, "127-FZ art. 15 p.1", "V"),
        Rule("committee_formation", "Forming the creditors' committee: its size and powers", Scenario.ABSOLUTE,
             Base.TOTAL, HALF, True, False, True, "127-FZ art. 15 p.2; art. 12 p.2", "V"),
        Rule("procedure_choice", "Petition to the court on the next procedure", Scenario.ABSOLUTE,
             Base.TOTAL, HALF, True, False, True, "127-FZ art. 15 p.2; art. 12 p.2", "V"),
        Rule("manager_choice", "Choosing the arbitration manager or the SRO", Scenario.ALTERNATIVES,
             Base.TOTAL, HALF, True, False, True, "127-FZ art. 15 p.2; art. 12 p.2", "K"),
        Rule("settlement", "Settlement agreement", Scenario.SECURED_UNANIMITY,
             Base.TOTAL, HALF, True, True, True, "127-FZ art. 150 p.2", "V", special_authority=True),
        Rule("committee_election", "Electing the members of the creditors' committee", Scenario.CUMULATIVE,
             Base.TOTAL, HALF, True, False, True, "127-FZ art. 17, 18 p.1-2", "V"),
        Rule("asset_substitution", "Substitution of the debtor's assets", Scenario.SECURED_UNANIMITY,
             Base.TOTAL, THREE_QUARTERS, False, True, False, "127-FZ art. 115 p.2; art. 141 p.2", "K",
             stages=frozenset({Stage.EXTERNAL_ADMINISTRATION, Stage.LIQUIDATION})),
        Rule("restructuring_plan", "Approving the debt restructuring plan of an individual", Scenario.ABSOLUTE,
             Base.TOTAL, HALF, True, False, True, "127-FZ art. 213.16", "V",
             stages=frozenset({Stage.RESTRUCTURING})),
        Rule("committee_competence", "Handing a question to the committee's competence", Scenario.SIMPLE,
             Base.PRESENT, HALF, True, False, False, "127-FZ art. 12 p.2, art. 17", "K"),
    )
}


def rule(code: str) -> Rule:
    try:
        return RULES[code]
    except KeyError:
        raise LookupError(f"no decision type {code!r}; known: {', '.join(RULES)}") from None


@dataclass(frozen=True)
class Claim:
    """One line of the register of claims, as frozen into a meeting's vote base."""

    creditor_id: str
    #: The principal claim in kopecks: 1 ruble, 1 vote.
    principal_minor: int
    #: Penalties, fines, lost profit: recorded, never counted for votes (art. 4, 12, 137 p.3).
    penalty_minor: int = 0
    #: The part of the principal secured by a pledge of the debtor's property.
    secured_minor: int = 0
    #: The creditor refused to enforce on the collateral (or the court refused enforcement).
    pledge_waived: bool = False
    #: Filed after the register was closed (ВАС letter №86).
    late: bool = False
    notified: bool = True

    @property
    def is_secured(self) -> bool:
        """Whose "for" a secured-unanimity decision needs."""
        return self.secured_minor > 0 and not self.pledge_waived


def vote_weight(claim: Claim, stage: Stage, *, everyone_late: bool = False) -> int:
    """The votes of one register line at this stage, in kopecks.

    * Late claims do not vote, unless every creditor filed late (then those creditors decide).
    * The secured part votes in observation and debt restructuring; elsewhere only once the
      creditor gave up enforcement (art. 12 p.1, 18.1). The unsecured remainder always votes.
    """
    if claim.late and not everyone_late:
        return 0
    if stage in SECURED_VOTE_STAGES or claim.pledge_waived:
        return claim.principal_minor
    return claim.principal_minor - min(claim.secured_minor, claim.principal_minor)


def weights(claims: list[Claim], stage: Stage) -> dict[str, int]:
    everyone_late = bool(claims) and all(c.late for c in claims)
    return {c.creditor_id: vote_weight(c, stage, everyone_late=everyone_late) for c in claims}


def has_quorum(present_weight: int, total_weight: int) -> bool:
    """Art. 12 p.4: the meeting may decide if those present hold more than half of all votes."""
    return total_weight > 0 and present_weight * 2 > total_weight
