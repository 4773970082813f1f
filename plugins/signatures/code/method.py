"""A simple electronic signature (простая электронная подпись, 63-FZ art. 5 p.2, art. 9): a one-time
code sent to the signer's phone (or e-mail) and typed back.

The code is issued by :class:`core.access.confirmations.Confirmations` for the purpose
``signatures.code`` and a payload of exactly the document's id, its SHA-256 and the signer, so it
cannot sign any other document, another version of this one, or for someone else. The evidence kept
is the confirmation's id, the hash signed and when: enough to show later that this person confirmed
these bytes, as long as the parties agreed that such a code is their signature.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import HTTPException

from core.access.confirmations import Confirmations
from core.contracts.signatures import DocumentToSign, SignatureChallenge, SignatureResult, SignatureStatus
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.platform import Platform

PURPOSE = "signatures.code"


def payload_of(document: DocumentToSign) -> dict[str, str]:
    return {"document": document.document_id, "sha256": document.sha256, "signer": str(document.signer_id)}


class CodeSignatureMethod:
    """``name = "code"``: sign by typing a one-time code (SMS first, e-mail when there is no phone)."""

    name = "code"

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def confirmations(self) -> Confirmations:
        return self.platform.service(Confirmations)

    async def start(self, document: DocumentToSign) -> SignatureChallenge:
        challenge = await self.confirmations.issue(
            user_id=document.signer_id,
            purpose=PURPOSE,
            payload=payload_of(document),
            summary=_("Signing “%(title)s” (SHA-256 %(digest)s…)", title=document.title,
                      digest=document.sha256[:12]),
        )
        return SignatureChallenge(
            method=self.name,
            challenge_id=str(challenge.id),
            details={**payload_of(document), "title": document.title, "sent_to": challenge.sent_to,
                     "expires_at": challenge.expires_at.isoformat()},
        )

    async def finish(self, challenge: SignatureChallenge, response: Mapping[str, Any]) -> SignatureResult:
        """``response = {"code": "123456"}``; ``challenge.details`` must come from the caller's own records.

        A wrong, used or expired code is a ``REJECTED`` result whose reason says why; the attempt
        counts against the code either way.
        """
        details = challenge.details
        document = DocumentToSign(str(details["document"]), str(details["sha256"]), str(details.get("title", "")),
                                  UUID(str(details["signer"])))
        try:
            challenge_id = UUID(str(challenge.challenge_id))
        except ValueError:
            return SignatureResult(SignatureStatus.REJECTED, self.name, reason=_("this code is not valid"))
        try:
            await self.confirmations.verify(challenge_id, str(response.get("code") or ""), purpose=PURPOSE,
                                            payload=payload_of(document), user_id=document.signer_id)
        except HTTPException as exc:  # 422 wrong/expired/other document, 429 too many tries
            return SignatureResult(SignatureStatus.REJECTED, self.name, reason=str(exc.detail))
        return SignatureResult(
            SignatureStatus.SIGNED,
            self.name,
            evidence={"confirmation": str(challenge_id), "sha256": document.sha256, "signer": str(document.signer_id),
                      "kind": "simple electronic signature (one-time code)"},
        )
