"""Fixtures for the ledger's tests."""

import pytest

from core.ledger import AccountFlags, Ledger


@pytest.fixture
async def ledger(platform) -> Ledger:
    return platform.service(Ledger)


class Accounts:
    """Opens accounts with unique owners so tests never collide."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.count = 0

    async def open(self, purpose: str = "wallet", currency: str = "RUB", *, flags=AccountFlags.NONE, **kw):
        self.count += 1
        import uuid

        return await self.ledger.open_account(
            owner=f"test:{uuid.uuid4()}", purpose=purpose, currency=currency, flags=flags, **kw
        )

    async def funded(self, source, amount: int, **kw):
        """A no-overdraft wallet holding ``amount``, paid from ``source``."""
        from core.ledger import new_transfer_id

        wallet = await self.open(flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS, **kw)
        if amount:
            result = await self.ledger.transfer(
                id=new_transfer_id(),
                debit_account_id=source.id,
                credit_account_id=wallet.id,
                amount=amount,
                code="fund",
            )
            assert result.created, result
        return wallet


@pytest.fixture
def accounts(ledger) -> Accounts:
    return Accounts(ledger)


async def open_wallets(ledger: Ledger, count: int, *, fund: int = 0, source=None) -> list:
    """No-overdraft wallets of users 0..count-1, each paid ``fund`` from ``source`` in one batch."""
    from core.ledger import NewTransfer, new_transfer_id

    wallets = [
        await ledger.open_account(
            owner=f"user:{i}",
            purpose="wallet",
            currency="RUB",
            flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        )
        for i in range(count)
    ]
    if fund:
        results = await ledger.submit(
            [
                NewTransfer(
                    id=new_transfer_id(), debit_account_id=source.id, credit_account_id=w.id, amount=fund
                )
                for w in wallets
            ]
        )
        assert all(r.created for r in results), results
    return wallets
