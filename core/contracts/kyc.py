"""Identity checks: taxpayer number, passport, SNILS (``register_kyc_checks``).

A check looks at a :class:`KycSubject` (a person and the documents they gave) and answers
a :class:`KycResult`. It never raises for a business outcome: a document that does not
match is ``FAILED``, a provider that is down or throttling is ``ERROR`` (the ``kyc``
plugin asks again later), and a provider that answers later is ``PENDING`` with a
``reference`` that :meth:`KycCheck.poll` takes.

Two kinds of findings, two places:

* :meth:`KycCheck.validate` is synchronous and offline: the shape of what was typed
  (a checksum, a date before another). Its problems are shown next to the form's fields
  and nothing is stored.
* :meth:`KycCheck.check` is the verification itself (a register, a provider, a list).
  Its result is recorded, and a ``FAILED`` one goes to a person for review.

Document numbers arrive normalised: digits only (12 for a person's ITN, 11 for SNILS,
10 for a passport's series and number). Field names in :class:`KycProblem` are the
``kyc`` form's: ``itn``, ``snils``, ``passport_number``, ``passport_issued_on``,
``passport_issuer_code``, ``birth_date``, ``last_name``...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

#: The document kinds the ``kyc`` plugin collects.
ITN, PASSPORT, SNILS = "itn", "passport", "snils"


class KycStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"      # the document is invalid or does not match the person
    PENDING = "pending"    # the check continues asynchronously: poll(reference) later
    ERROR = "error"        # the check could not be made (provider down, throttled); try again

    @property
    def final(self) -> bool:
        return self in (KycStatus.PASSED, KycStatus.FAILED)


@dataclass(frozen=True)
class KycDocument:
    kind: str                          # ITN, PASSPORT or SNILS
    number: str                        # digits only
    issued_on: dt.date | None = None   # passport: date of issue
    issuer_code: str = ""              # passport: the issuing unit's code, "NNN-NNN"
    issuer: str = ""                   # passport: issued by (free text)


@dataclass(frozen=True)
class KycSubject:
    #: Our id of the submission being checked: a provider's idempotency key, a log's reference.
    reference: str
    last_name: str
    first_name: str
    middle_name: str = ""
    birth_date: dt.date | None = None
    birth_place: str = ""
    documents: Mapping[str, KycDocument] = field(default_factory=dict)

    def document(self, kind: str) -> KycDocument | None:
        return self.documents.get(kind)


@dataclass(frozen=True)
class KycProblem:
    """Something wrong with what was typed, shown next to ``field`` (English; translated when shown)."""

    field: str
    message: str


@dataclass(frozen=True)
class KycResult:
    status: KycStatus
    check: str
    #: Why it failed or could not be made, in English for the reviewer (no personal data).
    reasons: tuple[str, ...] = ()
    #: PENDING: what :meth:`KycCheck.poll` needs (the provider's request id).
    reference: str = ""
    #: PENDING or ERROR: seconds before asking again, when the provider says so.
    retry_after_s: int | None = None
    #: What the provider answered; stored encrypted (it may hold personal data).
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class KycCheck(Protocol):
    name: str
    #: English, shown to reviewers and customers (translated when shown).
    title: str
    #: The documents the check needs; it runs when the subject has every one of them.
    document_kinds: frozenset[str]

    def validate(self, subject: KycSubject) -> Sequence[KycProblem]:
        """Offline problems with the documents this check knows, among those the subject has."""
        ...

    async def check(self, subject: KycSubject) -> KycResult:
        """Verify the subject; never raises for an outcome (FAILED) or a provider's trouble (ERROR)."""
        ...

    async def poll(self, subject: KycSubject, reference: str) -> KycResult:
        """Ask again about a check that answered PENDING with ``reference``."""
        ...


class KycCheckDefaults:
    """Defaults for checks that never answer PENDING and validate nothing beyond the form."""

    name: str
    title: str
    document_kinds: frozenset[str] = frozenset()

    def validate(self, subject: KycSubject) -> Sequence[KycProblem]:
        return ()

    async def poll(self, subject: KycSubject, reference: str) -> KycResult:
        return await self.check(subject)  # type: ignore[attr-defined]


def applies_to(check: KycCheck, subject: KycSubject) -> bool:
    """True when ``subject`` has every document ``check`` needs."""
    return check.document_kinds <= set(subject.documents)
