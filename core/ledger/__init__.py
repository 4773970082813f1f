"""The double-entry ledger: every movement of money in every plugin is a transfer in it.

Plugins use the service::

    from core.ledger import Ledger, transfer_id

    ledger = platform.service(Ledger)
    wallet = await ledger.open_account(owner=f"user:{user_id}", purpose="wallet", currency="RUB",
                                       flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    result = await ledger.transfer(id=transfer_id("payments", "topup", payment_id),
                                   debit_account_id=cash.id, credit_account_id=wallet.id,
                                   amount=150_00, code="topup")
    if not result.accepted:
        ...  # result.code says why (exceeds_credits, account_not_found, ...)

See ``core/ledger/README.md``.
"""

from core.ledger.ids import new_transfer_id, transfer_id
from core.ledger.model import (
    Account,
    AccountBalance,
    AccountFlags,
    LedgerInfo,
    NewTransfer,
    PostPending,
    Request,
    ResultCode,
    Reversal,
    StatementLine,
    StatementPage,
    Totals,
    Transfer,
    TransferKind,
    TransferResult,
    TrialBalance,
    TrialBalanceRow,
    VoidPending,
)
from core.ledger.service import Ledger
from core.ledger.settings import LedgerSettings
from core.ledger.verify import VerifyReport

__all__ = [
    "Account",
    "AccountBalance",
    "AccountFlags",
    "Ledger",
    "LedgerInfo",
    "LedgerSettings",
    "NewTransfer",
    "PostPending",
    "Request",
    "ResultCode",
    "Reversal",
    "StatementLine",
    "StatementPage",
    "Totals",
    "Transfer",
    "TransferKind",
    "TransferResult",
    "TrialBalance",
    "TrialBalanceRow",
    "VerifyReport",
    "VoidPending",
    "new_transfer_id",
    "transfer_id",
]
