"""The demo data: Anna verified, Boris waiting for a reviewer; loading twice creates nothing new."""

from core.demo import load_demo
from core.users.service import Users
from plugins.kyc.records import State
from plugins.kyc.service import KycService


async def counts(platform):
    tables = ("kyc_submissions", "kyc_check_results", "kyc_passport_list_imports", "users_users")
    return {t: await platform.db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def test_demo_shows_a_verified_and_a_waiting_customer(make_platform):
    platform = await make_platform(["notify.outbox", "kyc", "kyc.itn", "kyc.passport", "kyc.snils"],
                                   core={"platform": {"sandbox": True}})
    steps = []
    await load_demo(platform, steps.append)
    first = await counts(platform)
    await load_demo(platform, steps.append)
    assert await counts(platform) == first
    users, kyc = platform.service(Users), platform.service(KycService)
    anna, boris = await users.find("anna@example.com"), await users.find("boris@example.com")
    assert (await kyc.status(anna.id)).state is State.VERIFIED
    assert (await kyc.status(boris.id)).state is State.REVIEW
    assert [s.user_id for s in await kyc.queue()] == [boris.id]
    assert first["kyc_passport_list_imports"] == 1
