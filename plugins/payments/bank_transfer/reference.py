"""Payment references for bank transfers: ISO 11649 creditor references (``RF..``).

An invoice carries a reference the customer copies into the payment's purpose; the
bank statement brings it back. A check number (ISO 7064 MOD 97-10, as in IBANs) catches
typos, so a reference found in free text is only believed when its check digits hold.
"""

from __future__ import annotations

import re
from uuid import UUID

#: ``RF`` + 2 check digits + 1 to 21 letters and digits, perhaps written in groups of four.
_FOUND = re.compile(r"\bRF\s?\d\d(?:\s?[A-Z0-9]){1,21}", re.I)


def _numeric(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def reference_for(payment_id: UUID, prefix: str = "KP") -> str:
    """The reference of a payment: ``RF`` + check + ``prefix`` + 12 hex digits of its id."""
    body = (prefix + payment_id.hex[:12]).upper()
    check = 98 - _numeric(body + "RF00") % 97
    return f"RF{check:02d}{body}"


def is_valid(reference: str) -> bool:
    compact = re.sub(r"\s", "", reference).upper()
    if not re.fullmatch(r"RF\d\d[A-Z0-9]{1,21}", compact):
        return False
    return _numeric(compact[4:] + compact[:4]) % 97 == 1


def find_references(text: str) -> list[str]:
    """Valid references in free text (a statement line's purpose), compacted."""
    found = []
    for match in _FOUND.finditer(text or ""):
        compact = re.sub(r"\s", "", match.group(0)).upper()
        # A reference written in groups may run into the next word: try the longest valid prefix.
        for end in range(len(compact), 4, -1):
            if is_valid(compact[:end]):
                found.append(compact[:end])
                break
    return found


def grouped(reference: str) -> str:
    """``RF18KP0123456789AB`` -> ``RF18 KP01 2345 6789 AB`` for printing."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
