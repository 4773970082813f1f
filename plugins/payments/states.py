"""The payment state machine: which statuses exist and which moves between them are allowed.

Gateways answer in Kill Bill's vocabulary (:class:`~core.contracts.payments.GatewayStatus`);
a payment has its own statuses, which also cover what happens before and around the
provider (a withdrawal waiting for its code or for finance). Every change of status goes
through :func:`can_move`, so a replayed, late or out-of-order answer cannot move a
payment backwards.
"""

from __future__ import annotations

from enum import StrEnum

from core.contracts.payments import GatewayStatus


class Kind(StrEnum):
    TOPUP = "topup"              # the customer pays in through a hosted page
    WITHDRAWAL = "withdrawal"    # a payout to the customer's card or bank account
    CHARGE = "charge"            # a saved card charged without the customer (recurring)


class Status(StrEnum):
    NEW = "new"                                      # recorded; the provider not asked yet
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # withdrawal: waiting for the one-time code
    AWAITING_APPROVAL = "awaiting_approval"          # withdrawal: held, waiting for finance
    APPROVED = "approved"                            # withdrawal: held, queued for the provider
    PENDING = "pending"                              # the provider has it; the outcome is not in yet
    UNKNOWN = "unknown"                              # it may or may not have happened: the janitor asks
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"                            # it never happened
    REJECTED = "rejected"                            # withdrawal refused by finance
    REFUNDED = "refunded"                            # paid, then given back in full


FINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.REJECTED, Status.REFUNDED})
#: What the janitor keeps asking providers about.
UNSETTLED = frozenset({Status.PENDING, Status.UNKNOWN})
#: Withdrawal statuses in which the amount is held in the ledger.
HOLDING = frozenset({Status.AWAITING_APPROVAL, Status.APPROVED, Status.PENDING, Status.UNKNOWN})

FROM_GATEWAY: dict[GatewayStatus, Status] = {
    GatewayStatus.PROCESSED: Status.SUCCEEDED,
    GatewayStatus.PENDING: Status.PENDING,
    GatewayStatus.ERROR: Status.FAILED,
    GatewayStatus.UNDEFINED: Status.UNKNOWN,
    GatewayStatus.CANCELED: Status.CANCELED,
}

_MOVES: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.PENDING, Status.UNKNOWN, Status.SUCCEEDED, Status.FAILED, Status.CANCELED,
                           Status.AWAITING_CONFIRMATION}),
    Status.AWAITING_CONFIRMATION: frozenset({Status.AWAITING_APPROVAL, Status.APPROVED, Status.CANCELED,
                                             Status.FAILED}),
    Status.AWAITING_APPROVAL: frozenset({Status.APPROVED, Status.REJECTED, Status.CANCELED}),
    Status.APPROVED: frozenset({Status.PENDING, Status.UNKNOWN, Status.SUCCEEDED, Status.FAILED,
                                Status.CANCELED}),
    Status.PENDING: frozenset({Status.UNKNOWN, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}),
    Status.UNKNOWN: frozenset({Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.CANCELED}),
    Status.SUCCEEDED: frozenset({Status.REFUNDED}),
    # A provider may report success after a decline or an expiry (a delayed bank answer):
    # the customer's money was taken, so a pay-in must still be credited.
    Status.FAILED: frozenset({Status.SUCCEEDED}),
    Status.CANCELED: frozenset({Status.SUCCEEDED}),
    Status.REJECTED: frozenset(),
    Status.REFUNDED: frozenset(),
}


def can_move(kind: Kind, old: Status, new: Status) -> bool:
    if new not in _MOVES[old]:
        return False
    if kind is Kind.WITHDRAWAL and old in (Status.FAILED, Status.CANCELED):
        # The hold was released when the payout failed; a late success needs a person.
        return False
    return True
