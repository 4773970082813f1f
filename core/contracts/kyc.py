"""Identity checks: taxpayer number, passport, SNILS (``register_kyc_checks``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class KycStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"      # the document is invalid or does not match the person
    PENDING = "pending"    # the check continues asynchronously
    ERROR = "error"        # the check could not be made; try again


@dataclass(frozen=True)
class KycSubject:
    document_kind: str             # "itn", "passport", "snils"
    document_number: str
    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    birth_date: str = ""           # ISO date
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KycResult:
    status: KycStatus
    check: str
    reasons: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class KycCheck(Protocol):
    name: str
    #: The document kinds this check understands.
    document_kinds: frozenset[str]

    async def check(self, subject: KycSubject) -> KycResult: ...
