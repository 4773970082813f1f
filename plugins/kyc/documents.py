"""What a customer types, read into a :class:`~core.contracts.kyc.KycSubject`, with a problem per wrong field.

The form and the API share the field names: ``last_name``, ``first_name``, ``middle_name``,
``birth_date``, ``birth_place``, ``itn``, ``passport_number``, ``passport_issued_on``,
``passport_issuer_code``, ``passport_issuer``, ``snils``. This module guarantees the shapes
the contract promises (digits only, the right number of them, real dates); checksums and
consistency are the checks' business (their ``validate``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.access.inputs import plain_text
from core.contracts.kyc import ITN, PASSPORT, SNILS, KycDocument, KycProblem, KycSubject
from core.web.i18n import gettext as _

#: Document kinds in the order the form shows them, and their fields.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    PASSPORT: ("passport_number", "passport_issued_on", "passport_issuer_code", "passport_issuer"),
    ITN: ("itn",),
    SNILS: ("snils",),
}
PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "birth_place")
N_ = str  # marks English texts translated when shown
KIND_TITLES = {PASSPORT: N_("Passport"), ITN: N_("Taxpayer number (INN)"), SNILS: N_("SNILS")}
#: Digits in each document's number.
NUMBER_LENGTHS = {ITN: 12, PASSPORT: 10, SNILS: 11}

_NAME = re.compile(r"^[А-ЯЁа-яё]+(?:[ '\-‐–][А-ЯЁа-яё]+)*$")
_SEPARATORS = re.compile(r"[\s\-‐–.]+")
OLDEST_BIRTH = dt.date(1900, 1, 1)


def parse_date(value: Any) -> dt.date | None:
    """``2026-01-31`` (HTML date inputs, the API) or ``31.01.2026`` (as printed); None if neither."""
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def digits_of(value: Any) -> str | None:
    """The digits of a number typed with spaces, dashes or dots between them; None if anything else is in it."""
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(value or "")))
    return text if text.isdigit() else None


def years_between(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass
class Reading:
    """A form read: the problems, and the subject made of the parts that are well formed."""

    subject: KycSubject
    problems: list[KycProblem]
    given: set[str]


class _Reader:
    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.fields = fields
        self.problems: list[KycProblem] = []

    def text(self, name: str, limit: int) -> str:
        value = self.fields.get(name)
        return plain_text(value if isinstance(value, str) else str(value or ""), limit)

    def problem(self, name: str, message: str) -> None:
        self.problems.append(KycProblem(name, message))

    def name(self, field: str, required: bool) -> str:
        value = self.text(field, 100)
        if not value:
            if required:
                self.problem(field, _("enter it as in the passport"))
            return ""
        if len(value) > 60 or not _NAME.match(value):
            self.problem(field, _("write it in Cyrillic letters, as in the passport"))
        return value

    def date(self, field: str, *, required: bool, missing: str) -> dt.date | None:
        raw = self.fields.get(field)
        if raw in (None, ""):
            if required:
                self.problem(field, missing)
            return None
        value = parse_date(raw)
        if value is None:
            self.problem(field, _("not a date: use DD.MM.YYYY"))
        return value

    def number(self, field: str, kind: str, missing: str) -> str:
        raw = self.fields.get(field)
        value = digits_of(raw)
        if not value:
            self.problem(field, missing if not str(raw or "").strip() else _("use digits only"))
            return ""
        if len(value) != NUMBER_LENGTHS[kind]:
            self.problem(field, _("it has %(count)s digits", count=NUMBER_LENGTHS[kind]))
        return value


def given_kinds(fields: Mapping[str, Any], offered: Iterable[str]) -> set[str]:
    """The document kinds the customer filled in at least one field of."""
    return {kind for kind in offered if any(str(fields.get(f) or "").strip() for f in KIND_FIELDS[kind])}


def read_subject(
    fields: Mapping[str, Any],
    *,
    offered: Iterable[str],
    required: Iterable[str],
    min_age: int,
    today: dt.date,
) -> Reading:
    """Read the person and the documents of ``offered`` kinds; those in ``required`` must be there."""
    offered = [k for k in KIND_FIELDS if k in set(offered)]
    reader = _Reader(fields)
    last_name = reader.name("last_name", True)
    first_name = reader.name("first_name", True)
    middle_name = reader.name("middle_name", False)
    birth_date = reader.date("birth_date", required=True, missing=_("enter the date of birth"))
    if birth_date is not None:
        if birth_date > today or birth_date < OLDEST_BIRTH:
            reader.problem("birth_date", _("check the year: this date of birth is not possible"))
        elif years_between(birth_date, today) < min_age:
            reader.problem("birth_date", _("only people of %(age)s and over can be verified", age=min_age))
    birth_place = reader.text("birth_place", 200)

    given = given_kinds(fields, offered)
    for kind in offered:
        if kind in set(required) and kind not in given:
            reader.problem(KIND_FIELDS[kind][0], _("this document is required"))
    documents: dict[str, KycDocument] = {}
    if ITN in given:
        documents[ITN] = KycDocument(ITN, reader.number("itn", ITN, _("enter the taxpayer number")))
    if SNILS in given:
        documents[SNILS] = KycDocument(SNILS, reader.number("snils", SNILS, _("enter the SNILS number")))
    if PASSPORT in given:
        number = reader.number("passport_number", PASSPORT, _("enter the series and number"))
        issued_on = reader.date(
            "passport_issued_on", required=True, missing=_("enter the date of issue")
        )
        if issued_on is not None and issued_on > today:
            reader.problem("passport_issued_on", _("the date of issue is in the future"))
        code = digits_of(fields.get("passport_issuer_code"))
        if not code or len(code) != 6:
            reader.problem("passport_issuer_code", _("the unit code has 6 digits, e.g. 770-001"))
            code = ""
        documents[PASSPORT] = KycDocument(
            PASSPORT,
            number,
            issued_on=issued_on,
            issuer_code=f"{code[:3]}-{code[3:]}" if code else "",
            issuer=reader.text("passport_issuer", 300),
        )
    # The checks validate what is well formed, so every mistake is shown at once.
    wrong = {p.field for p in reader.problems}
    sound = {kind: doc for kind, doc in documents.items() if not wrong & set(KIND_FIELDS[kind])}
    subject = KycSubject(
        reference="",
        last_name=last_name,
        first_name=first_name,
        middle_name=middle_name,
        birth_date=None if "birth_date" in wrong else birth_date,
        birth_place=birth_place,
        documents=sound,
    )
    return Reading(subject, reader.problems, given)


# -- storing and showing ------------------------------------------------------------------------


def person_json(subject: KycSubject) -> str:
    return json.dumps(
        {
            "last_name": subject.last_name,
            "first_name": subject.first_name,
            "middle_name": subject.middle_name,
            "birth_date": subject.birth_date.isoformat() if subject.birth_date else "",
            "birth_place": subject.birth_place,
        },
        ensure_ascii=False,
    )


def passport_json(document: KycDocument) -> str:
    return json.dumps(
        {
            "number": document.number,
            "issued_on": document.issued_on.isoformat() if document.issued_on else "",
            "issuer_code": document.issuer_code,
            "issuer": document.issuer,
        },
        ensure_ascii=False,
    )


def passport_number_of(plaintext: str) -> str:
    """The blind index's input for a stored passport (``kopilka pii reindex`` uses it too)."""
    return json.loads(plaintext)["number"]


def subject_from(
    reference: str, person: str, *, itn: str | None, passport: str | None, snils: str | None
) -> KycSubject:
    """A subject back from the decrypted columns."""
    p = json.loads(person)
    documents: dict[str, KycDocument] = {}
    if itn:
        documents[ITN] = KycDocument(ITN, itn)
    if snils:
        documents[SNILS] = KycDocument(SNILS, snils)
    if passport:
        d = json.loads(passport)
        documents[PASSPORT] = KycDocument(
            PASSPORT, d["number"], issued_on=parse_date(d["issued_on"]), issuer_code=d["issuer_code"],
            issuer=d.get("issuer", ""),
        )
    return KycSubject(
        reference=reference,
        last_name=p["last_name"],
        first_name=p["first_name"],
        middle_name=p.get("middle_name", ""),
        birth_date=parse_date(p.get("birth_date")),
        birth_place=p.get("birth_place", ""),
        documents=documents,
    )


def format_number(kind: str, number: str) -> str:
    """As printed: ``45 10 123456``, ``112-233-445 95``, ``500100732259``."""
    if kind == PASSPORT and len(number) == 10:
        return f"{number[:2]} {number[2:4]} {number[4:]}"
    if kind == SNILS and len(number) == 11:
        return f"{number[:3]}-{number[3:6]}-{number[6:9]} {number[9:]}"
    return number


def form_values(subject: KycSubject) -> dict[str, str]:
    """The form's fields filled from a subject (to show a decrypted submission to a reviewer)."""
    values = {
        "last_name": subject.last_name,
        "first_name": subject.first_name,
        "middle_name": subject.middle_name,
        "birth_date": subject.birth_date.isoformat() if subject.birth_date else "",
        "birth_place": subject.birth_place,
    }
    for kind, document in subject.documents.items():
        if kind == PASSPORT:
            values.update(
                passport_number=format_number(kind, document.number),
                passport_issued_on=document.issued_on.isoformat() if document.issued_on else "",
                passport_issuer_code=document.issuer_code,
                passport_issuer=document.issuer,
            )
        else:
            values[kind] = format_number(kind, document.number)
    return values
