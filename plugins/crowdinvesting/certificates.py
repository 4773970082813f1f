"""Gift certificates: bought with a customer's balance, redeemed by the recipient as an investment.

The amount moves from the buyer's wallet to the certificate's own ledger account, and stays
there until the recipient redeems the code: then it goes from that account into the chosen
project's collecting stage as the recipient's investment, counted against the recipient's
259-FZ limit (the gift is theirs to invest). A certificate not redeemed in time goes back to
the buyer's wallet.

Codes are bearer secrets. The database keeps only their SHA-256; the code itself is an HMAC of
the certificate's id under the deployment's secret key, so the buyer can see it again on
their page but a copy of the database alone cannot redeem anything.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import uuid
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.projects.errors import Conflict, Invalid, NotFound
from core.web.i18n import gettext as _
from core.web.i18n import money
from plugins.crowdinvesting.accounts import CrowdAccounts, tid
from plugins.crowdinvesting.investing import Funding, InvestmentService, utcnow
from plugins.crowdinvesting.models import Certificate, Investment
from plugins.crowdinvesting.notify import Notices

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.crowdinvesting.settings import CrowdinvestingSettings

CODE = re.compile(r"^[A-Z2-7]{16}$")


def normalise_code(code: str) -> str:
    """What people type back (``gift-abcd-efgh...``, spaces, dashes) to the canonical 16 characters."""
    text = re.sub(r"[\s-]", "", code.upper())
    return text[4:] if text.startswith("GIFT") and len(text) == 20 else text


def display_code(canonical: str) -> str:
    return "GIFT-" + "-".join(canonical[i:i + 4] for i in range(0, 16, 4))


class CertificateService:
    def __init__(self, platform: Platform, settings: CrowdinvestingSettings) -> None:
        self.platform = platform
        self.settings = settings
        self.accounts = CrowdAccounts(platform, settings)
        self.notices = Notices(platform)

    @property
    def db(self):
        return self.platform.db

    def _secret(self) -> bytes:
        return self.platform.core.web.secret_key.get_secret_value().encode()

    def code_of(self, certificate_id: UUID) -> str:
        digest = hmac.new(self._secret(), f"crowdinvesting.certificate:{certificate_id}".encode(), hashlib.sha256)
        return base64.b32encode(digest.digest()).decode()[:16]

    @staticmethod
    def _hash(canonical: str) -> str:
        return hashlib.sha256(canonical.encode()).hexdigest()

    async def buy(self, buyer_id: UUID, *, amount_minor: int, recipient_name: str = "", message: str = "",
                  idempotency_key: str | None = None, now: dt.datetime | None = None) -> tuple[Certificate, str]:
        """Buy a certificate from the buyer's balance; returns it and its code (``GIFT-XXXX-...``)."""
        low, high = self.settings.minor(self.settings.certificates.min_amount), \
            self.settings.minor(self.settings.certificates.max_amount)
        currency = self.settings.currency
        if not isinstance(amount_minor, int) or not low <= amount_minor <= high:
            raise Invalid(_("a certificate is between %(low)s and %(high)s", low=money(low, currency),
                            high=money(high, currency)), field="amount")
        key = (idempotency_key or "").strip()[:100] or None
        if key:
            row = await self.db.fetchrow("SELECT * FROM crowd_certificates WHERE buyer_id = $1 AND idempotency_key = $2",
                                         buyer_id, key)
            if row is not None:
                if row["amount_minor"] != amount_minor:
                    raise Conflict("this idempotency key was already used for a different certificate")
                return Certificate.from_record(row), display_code(self.code_of(row["id"]))
        now = now or utcnow()
        certificate_id = uuid.uuid4()
        canonical = self.code_of(certificate_id)
        try:
            async with self.db.transaction() as conn:
                wallet = await self.accounts.wallet(buyer_id)
                account = await self.accounts.certificate(certificate_id)
                row = await conn.fetchrow(
                    """INSERT INTO crowd_certificates (id, code_hash, code_hint, buyer_id, amount_minor, currency,
                                                       account_id, recipient_name, message, idempotency_key,
                                                       created_at, expires_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *""",
                    certificate_id, self._hash(canonical), canonical[-4:], buyer_id, amount_minor, currency, account,
                    recipient_name.strip()[:200], message.strip()[:2000], key, now,
                    now + dt.timedelta(days=self.settings.certificates.validity_days))
                result = await self.accounts.move(tid("certificate", certificate_id, "bought"), wallet, account,
                                                  amount_minor, "crowdinvesting.certificate_bought",
                                                  certificate=certificate_id)
                if not result.accepted:
                    if result.code == "exceeds_credits":
                        raise Conflict(_("your balance is %(available)s, not enough for this certificate",
                                         available=money(await self.accounts.balance(wallet), currency)))
                    raise Conflict(f"the ledger refused the purchase: {result.code}")
        except asyncpg.UniqueViolationError:
            if key:
                return await self.buy(buyer_id, amount_minor=amount_minor, idempotency_key=key)
            raise
        return Certificate.from_record(row), display_code(canonical)

    async def redeem(self, user_id: UUID, code: str, project_key: UUID | str, *,
                     now: dt.datetime | None = None) -> Investment:
        """Invest a certificate's whole amount, as ``user_id``, in the project's collecting stage."""
        canonical = normalise_code(code)
        if not CODE.match(canonical):
            raise Invalid(_("a certificate code looks like GIFT-XXXX-XXXX-XXXX-XXXX"), field="code")
        investments = self.platform.service(InvestmentService)
        project = await investments._crowd_project(project_key)
        now = now or utcnow()
        async with self.db.transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM crowd_certificates WHERE code_hash = $1 FOR UPDATE",
                                      self._hash(canonical))
            if row is None:
                raise NotFound(_("no certificate with this code"))
            certificate = Certificate.from_record(row)
            if certificate.status == "redeemed":
                raise Conflict(_("this certificate was already redeemed"))
            if certificate.status == "expired" or certificate.expires_at <= now:
                raise Conflict(_("this certificate has expired; its amount goes back to the buyer"))
            status = await investments._register(conn, user_id)
            investment = await investments.place(
                conn, user_id=user_id, project=project, amount_minor=certificate.amount_minor, status=status,
                funding=Funding(certificate.account_id, "certificate", certificate.id), now=now)
            await conn.execute("UPDATE crowd_certificates SET status = 'redeemed', redeemed_by = $2, redeemed_at = $3, "
                               "investment_id = $4 WHERE id = $1", certificate.id, user_id, now, investment.id)
            # From a task, once this commits: a failing message must not turn a made investment into an error.
            await self.notices.later([certificate.buyer_id], "certificate_redeemed", {
                "amount_minor": certificate.amount_minor, "currency": certificate.currency, "project": project.title})
        return investment

    async def expire_due(self, now: dt.datetime | None = None) -> int:
        """Send the amount of every certificate past its date back to its buyer."""
        now = now or utcnow()
        rows = await self.db.fetch("SELECT id FROM crowd_certificates WHERE status = 'active' AND expires_at <= $1 "
                                   "ORDER BY expires_at LIMIT 1000", now)
        expired = 0
        for row in rows:
            async with self.db.transaction() as conn:
                locked = await conn.fetchrow("SELECT * FROM crowd_certificates WHERE id = $1 AND status = 'active' "
                                             "FOR UPDATE", row["id"])
                if locked is None:
                    continue  # redeemed or expired meanwhile
                certificate = Certificate.from_record(locked)
                wallet = await self.accounts.wallet(certificate.buyer_id)
                result = await self.accounts.move(tid("certificate", certificate.id, "expired"), certificate.account_id,
                                                  wallet, certificate.amount_minor, "crowdinvesting.certificate_expired",
                                                  certificate=certificate.id)
                if not result.accepted:
                    raise Conflict(f"the ledger refused to return certificate {certificate.id}: {result.code}")
                await conn.execute("UPDATE crowd_certificates SET status = 'expired', expired_at = $2 WHERE id = $1",
                                   certificate.id, now)
            await self.notices.tell([certificate.buyer_id], "certificate_expired", {
                "amount_minor": certificate.amount_minor, "currency": certificate.currency})
            expired += 1
        return expired

    async def certificates(self, *, buyer_id: UUID | None = None, redeemed_by: UUID | None = None,
                           limit: int = 500) -> list[Certificate]:
        rows = await self.db.fetch(
            "SELECT * FROM crowd_certificates WHERE ($1::uuid IS NULL OR buyer_id = $1) "
            "AND ($2::uuid IS NULL OR redeemed_by = $2) ORDER BY created_at DESC LIMIT $3", buyer_id, redeemed_by, limit)
        return [Certificate.from_record(r) for r in rows]

    def as_buyer_json(self, certificate: Certificate) -> dict[str, Any]:
        """What the buyer sees: the code too, while it can still be redeemed."""
        data = certificate.as_json()
        if certificate.status == "active":
            data["code"] = display_code(self.code_of(certificate.id))
        return data
