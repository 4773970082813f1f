"""``[plugins.cooperative]``: the currency and the ledger purposes the cooperative moves money between."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CooperativeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "RUB"
    #: The ledger purpose of members' wallets (opened by the payments plugin on top-up).
    wallet_purpose: str = "wallet"
    #: Each program's pool (owner ``coop_program:<id>``): shares and repayments come in, purchases go out.
    pool_purpose: str = "cooperative.pool"
    #: Where allotted purchases are paid to (the sellers, outside the platform).
    purchases_purpose: str = "cooperative.purchases"
