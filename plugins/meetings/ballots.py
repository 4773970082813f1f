"""The ballot-form constructors: what an agenda item asks, and which answers are valid.

Ten constructors, after the four typical forms of Приказ МЭР №235 and their variants:

1. ``yes_no``: for / against / abstain on one question (form 1);
2. ``alternatives``: one of several variants of a decision (form 2);
3. ``candidates``: an arbitration manager or SRO out of a list (form 2 variant);
4. ``cumulative``: committee election, votes = weight x seats spread over candidates;
5. ``number``: a value within [min, max] (e.g. the committee's size, 3 to 11);
6. ``document``: approval of a document, the SHA-256 of the attachment shown on the ballot;
7. the *bulletin*: several items on one absentee ballot, confirmed by one code (see ``service.cast``);
8. ``settlement``: form 1 plus the secured-creditor and special-authority checks (art. 150 p.2);
9. ``schedule``: date and place of the next meeting, one of several;
10. the *opinion*: a free-text dissent attached to any ballot, recorded in the protocol, never counted.

Every answer is normalised to one canonical shape before a code is issued for it, so the code
confirms exactly what is counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.access.inputs import plain_text
from plugins.meetings.rules import Rule, Scenario


class Shape(StrEnum):
    BINARY = "binary"
    SINGLE = "single"
    CUMULATIVE = "cumulative"


class FormKind(StrEnum):
    YES_NO = "yes_no"
    ALTERNATIVES = "alternatives"
    CANDIDATES = "candidates"
    CUMULATIVE = "cumulative"
    NUMBER = "number"
    DOCUMENT = "document"
    SETTLEMENT = "settlement"
    SCHEDULE = "schedule"


FORM_LABELS = {
    FormKind.YES_NO: "For / against / abstain",
    FormKind.ALTERNATIVES: "One of several variants",
    FormKind.CANDIDATES: "Candidates (manager or SRO)",
    FormKind.CUMULATIVE: "Cumulative (committee election)",
    FormKind.NUMBER: "A number within limits",
    FormKind.DOCUMENT: "Approval of a document",
    FormKind.SETTLEMENT: "Settlement agreement",
    FormKind.SCHEDULE: "Date and place of the next meeting",
}

SHAPES = {
    FormKind.YES_NO: Shape.BINARY,
    FormKind.DOCUMENT: Shape.BINARY,
    FormKind.SETTLEMENT: Shape.BINARY,
    FormKind.ALTERNATIVES: Shape.SINGLE,
    FormKind.CANDIDATES: Shape.SINGLE,
    FormKind.SCHEDULE: Shape.SINGLE,
    FormKind.NUMBER: Shape.SINGLE,
    FormKind.CUMULATIVE: Shape.CUMULATIVE,
}

VOTES = ("for", "against", "abstain")
MAX_OPTIONS = 30
OPINION_LIMIT = 2000


class BallotError(ValueError):
    """An item or an answer that does not fit its form; ``field`` says where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ItemForm:
    """What an agenda item's ballot looks like."""

    kind: FormKind
    options: tuple[str, ...] = ()
    seats: int = 0
    document_sha256: str = ""

    @property
    def shape(self) -> Shape:
        return SHAPES[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "options": list(self.options), "seats": self.seats,
                "document_sha256": self.document_sha256}


def build_form(rule: Rule, kind: str, *, options: Sequence[str] = (), seats: int | None = None,
               minimum: int | None = None, maximum: int | None = None, document_sha256: str = "") -> ItemForm:
    """Check that the constructor fits the decision type and its settings make sense."""
    try:
        form_kind = FormKind(kind)
    except ValueError:
        raise BallotError(f"no ballot form {kind!r}; known: {', '.join(k.value for k in FormKind)}", "form") from None
    shape = SHAPES[form_kind]
    if rule.scenario is Scenario.CUMULATIVE and form_kind is not FormKind.CUMULATIVE:
        raise BallotError("committee members are elected by cumulative voting: use the cumulative form", "form")
    if form_kind is FormKind.CUMULATIVE and rule.scenario is not Scenario.CUMULATIVE:
        raise BallotError("the cumulative form is only for electing the committee", "form")
    if form_kind is FormKind.SETTLEMENT and rule.code != "settlement":
        raise BallotError("the settlement form is only for the settlement-agreement decision", "form")
    if rule.scenario is Scenario.ALTERNATIVES and shape is Shape.BINARY and form_kind is not FormKind.YES_NO:
        raise BallotError("a choice between candidates needs a form with options", "form")
    if rule.secured_unanimity and shape is not Shape.BINARY:
        raise BallotError("this decision needs every secured creditor's \"for\": use a for/against form", "form")
    cleaned = tuple(plain_text(o, 300) for o in options if plain_text(o, 300))
    if form_kind is FormKind.NUMBER:
        if minimum is None or maximum is None or not 0 <= minimum <= maximum or maximum - minimum >= MAX_OPTIONS:
            raise BallotError(f"give min and max (0 <= min <= max, at most {MAX_OPTIONS} values)", "max")
        cleaned = tuple(str(n) for n in range(minimum, maximum + 1))
    if shape in (Shape.SINGLE, Shape.CUMULATIVE):
        if len(cleaned) < (1 if shape is Shape.CUMULATIVE else 2) or len(cleaned) > MAX_OPTIONS:
            raise BallotError(f"give between 2 and {MAX_OPTIONS} options, one per line", "options")
        if len(set(cleaned)) != len(cleaned):
            raise BallotError("options must differ from each other", "options")
    elif cleaned:
        raise BallotError("this form has no options: it is answered for, against or abstain", "options")
    if form_kind is FormKind.CUMULATIVE:
        if seats is None or not 1 <= seats <= len(cleaned):
            raise BallotError("seats must be at least 1 and at most the number of candidates", "seats")
    else:
        seats = 0
    if form_kind is FormKind.DOCUMENT:
        digest = document_sha256.strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise BallotError("attach the document being approved (its SHA-256 goes on the ballot)", "document")
        document_sha256 = digest
    else:
        document_sha256 = ""
    return ItemForm(form_kind, cleaned, seats or 0, document_sha256)


def form_from_json(data: Mapping[str, Any]) -> ItemForm:
    return ItemForm(FormKind(data["kind"]), tuple(data.get("options") or ()), int(data.get("seats") or 0),
                    data.get("document_sha256") or "")


@dataclass(frozen=True)
class Answer:
    """A normalised answer to one item: ``choice`` is what is counted, ``opinion`` is only recorded."""

    choice: dict[str, Any]
    opinion: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_payload(self) -> dict[str, Any]:
        return {"choice": self.choice, "opinion": self.opinion}


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise BallotError("a whole number is needed", where)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.isdigit() or len(text) > 19:
        raise BallotError(f"{value!r} is not a whole number of votes", where)
    return int(text)


def normalise(form: ItemForm, raw: Any, *, votes_available: int | None = None, where: str = "choice") -> Answer:
    """The canonical answer for ``raw`` (a dict from JSON or from a form), or :class:`BallotError`.

    ``votes_available`` (weight x seats) bounds a cumulative allocation.
    """
    if not isinstance(raw, Mapping):
        raise BallotError("an answer is an object such as {\"vote\": \"for\"}", where)
    opinion = plain_text(str(raw.get("opinion") or ""), OPINION_LIMIT, one_line=False)
    vote = raw.get("vote")
    if vote == "abstain":
        return Answer({"vote": "abstain"}, opinion)
    if form.shape is Shape.BINARY:
        if vote not in VOTES:
            raise BallotError("vote for, against or abstain", f"{where}.vote")
        return Answer({"vote": vote}, opinion)
    if form.shape is Shape.SINGLE:
        if vote == "against":  # against every variant
            return Answer({"vote": "against"}, opinion)
        if "option" not in raw or raw.get("option") in (None, ""):
            raise BallotError("choose one option (or vote against all, or abstain)", f"{where}.option")
        index = _int(raw["option"], f"{where}.option")
        if not 0 <= index < len(form.options):
            raise BallotError(f"option {index} does not exist: there are {len(form.options)}", f"{where}.option")
        return Answer({"option": index}, opinion)
    allocation = raw.get("allocation")
    if not isinstance(allocation, Mapping) or not allocation:
        raise BallotError("give the votes for each chosen candidate, or abstain", f"{where}.allocation")
    cleaned: dict[str, int] = {}
    for key, value in allocation.items():
        index = _int(key, f"{where}.allocation")
        if not 0 <= index < len(form.options):
            raise BallotError(f"candidate {index} does not exist", f"{where}.allocation")
        amount = _int(value, f"{where}.allocation.{index}")
        if amount > 0:
            cleaned[str(index)] = cleaned.get(str(index), 0) + amount
    if not cleaned:
        raise BallotError("give at least one candidate some votes, or abstain", f"{where}.allocation")
    if votes_available is not None and sum(cleaned.values()) > votes_available:
        raise BallotError(f"{sum(cleaned.values())} votes given, but only {votes_available} are yours "
                          "(claim x seats)", f"{where}.allocation")
    return Answer({"allocation": dict(sorted(cleaned.items(), key=lambda kv: int(kv[0])))}, opinion)


INVALID = {"invalid": True}
