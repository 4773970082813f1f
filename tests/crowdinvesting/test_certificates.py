"""Gift certificates: held in their own account, redeemed against the recipient's limit, returned on expiry."""

import datetime as dt
import uuid

import pytest

from core.projects import Conflict, Invalid, NotFound
from plugins.crowdinvesting.certificates import CertificateService, normalise_code
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import balance, fund, wallet
from tests.projects.helpers import open_stage, published_project


async def test_buy_redeem_and_expire(platform):
    certificates = platform.service(CertificateService)
    investing = platform.service(InvestmentService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=1_000_000_00)
    buyer, friend = uuid.uuid4(), uuid.uuid4()
    await fund(platform, buyer, 30_000_00)
    with pytest.raises(Invalid, match="between"):
        await certificates.buy(buyer, amount_minor=999_99)
    gift, code = await certificates.buy(buyer, amount_minor=10_000_00, recipient_name="Masha", idempotency_key="g1")
    same, same_code = await certificates.buy(buyer, amount_minor=10_000_00, idempotency_key="g1")
    assert (same.id, same_code) == (gift.id, code)
    assert await wallet(platform, buyer) == 20_000_00
    assert await balance(platform, f"certificate:{gift.id}", "crowdinvesting.certificate") == 10_000_00
    assert code.startswith("GIFT-") and normalise_code(code.lower().replace("-", " ")) == code.replace("-", "")[4:]

    with pytest.raises(NotFound):
        await certificates.redeem(friend, "GIFT-AAAA-AAAA-AAAA-AAAA", project.slug)
    # The recipient's own 259-FZ limit counts the gift.
    await investing.declare_elsewhere(friend, year=investing.today().year, amount_minor=595_000_00)
    with pytest.raises(Conflict, match="259-FZ"):
        await certificates.redeem(friend, code, project.slug)
    await investing.declare_elsewhere(friend, year=investing.today().year, amount_minor=0)
    investment = await certificates.redeem(friend, code.lower(), project.slug)
    assert (investment.user_id, investment.source, investment.amount_minor) == (friend, "certificate", 10_000_00)
    assert investment.stage_id == stage.id
    assert await balance(platform, f"certificate:{gift.id}", "crowdinvesting.certificate") == 0
    assert (await investing.allowance(friend)).invested_minor == 10_000_00
    with pytest.raises(Conflict, match="already redeemed"):
        await certificates.redeem(friend, code, project.slug)

    unused, _code = await certificates.buy(buyer, amount_minor=5_000_00)
    assert await certificates.expire_due() == 0
    later = unused.expires_at + dt.timedelta(seconds=1)
    assert await certificates.expire_due(later) == 1
    assert await certificates.expire_due(later) == 0
    assert await wallet(platform, buyer) == 20_000_00
    statuses = {c.id: c.status for c in await certificates.certificates(buyer_id=buyer)}
    assert statuses == {gift.id: "redeemed", unused.id: "expired"}


async def test_a_certificate_needs_the_balance(platform):
    buyer = uuid.uuid4()
    await fund(platform, buyer, 500_00)
    with pytest.raises(Conflict, match="not enough"):
        await platform.service(CertificateService).buy(buyer, amount_minor=1_000_00)
    assert await platform.service(CertificateService).certificates(buyer_id=buyer) == []


async def test_only_crowdinvesting_projects_take_certificates_and_investments(platform):
    """Another product's project is refused: its failed stages would never be refunded by this plugin."""
    certificates = platform.service(CertificateService)
    investing = platform.service(InvestmentService)
    other = await published_project(platform, kind="lending")
    await open_stage(platform, other, target=100_000_00)
    buyer, friend = uuid.uuid4(), uuid.uuid4()
    await fund(platform, buyer, 10_000_00)
    await fund(platform, friend, 10_000_00)
    _gift, code = await certificates.buy(buyer, amount_minor=5_000_00)
    with pytest.raises(NotFound):
        await certificates.redeem(friend, code, other.slug)
    with pytest.raises(NotFound):
        await investing.invest(friend, other.id, 5_000_00)
    assert [c.status for c in await certificates.certificates(buyer_id=buyer)] == ["active"]
    assert await investing.investments(user_id=friend) == []


async def test_the_buyer_hears_of_the_redemption_from_a_task(platform, broker, monkeypatch):
    """Telling the buyer happens after the commit: if it fails, the recipient's investment still stands."""
    from core.notifications.service import NotificationService

    certificates = platform.service(CertificateService)
    project = await published_project(platform)
    await open_stage(platform, project, target=100_000_00)
    buyer, friend = uuid.uuid4(), uuid.uuid4()
    await fund(platform, buyer, 10_000_00)
    _gift, code = await certificates.buy(buyer, amount_minor=5_000_00)

    async def broken(*args, **kwargs):
        raise RuntimeError("the notification service is down")

    monkeypatch.setattr(NotificationService, "notify", broken)
    investment = await certificates.redeem(friend, code, project.slug)
    assert investment.amount_minor == 5_000_00
    assert len(broker.kicked("crowdinvesting.notify_users")) == 1
