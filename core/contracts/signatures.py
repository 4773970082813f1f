"""Document-signature methods (``register_signature_methods``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from uuid import UUID


class SignatureStatus(StrEnum):
    SIGNED = "signed"
    REJECTED = "rejected"
    PENDING = "pending"


@dataclass(frozen=True)
class DocumentToSign:
    document_id: str
    #: SHA-256 of exactly the bytes being signed.
    sha256: str
    title: str
    signer_id: UUID


@dataclass(frozen=True)
class SignatureChallenge:
    method: str
    challenge_id: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignatureResult:
    status: SignatureStatus
    method: str
    #: What proves the signature: a code confirmation record, a detached CMS signature...
    evidence: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


@runtime_checkable
class SignatureMethod(Protocol):
    name: str

    async def start(self, document: DocumentToSign) -> SignatureChallenge:
        """Begin signing: send a code, or return what the signer's tool needs."""
        ...

    async def finish(self, challenge: SignatureChallenge, response: Mapping[str, Any]) -> SignatureResult:
        """Complete signing with the signer's response."""
        ...
