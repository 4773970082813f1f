"""The demo data shows a program with members, and loading it twice creates nothing new."""

from plugins.cooperative.demo import MEMBERS, load
from plugins.cooperative.service import CooperativeService
from tests.cooperative.helpers import balance


async def test_demo_data_is_idempotent(platform):
    await load(platform, lambda step: None)
    await load(platform, lambda step: None)
    service = platform.service(CooperativeService)
    program = await service.program("kopikupi-flat")
    assert (await service.pool_state(program))["members_saving"] == 3
    assert await balance(platform, f"coop_program:{program['id']}", "cooperative.pool") == sum(s for *_x, s in MEMBERS)
