"""The demo data loads, shows every part of the plugin, and loads again without creating anything."""

from core.ledger import Ledger
from core.projects import ProjectService
from plugins.crowdinvesting.demo import load


async def counts(platform):
    tables = ("projects_projects", "projects_stages", "projects_spending", "projects_publications",
              "crowd_investments", "crowd_distributions", "crowd_payouts", "ledger_transfers")
    return {t: await platform.db.fetchval(f"SELECT count(*) FROM {t}") for t in tables}


async def test_demo_data_is_complete_and_idempotent(platform):
    steps = []
    await load(platform, steps.append)
    first = await counts(platform)
    await load(platform, steps.append)
    assert await counts(platform) == first
    projects = platform.service(ProjectService)
    statuses = {p.slug: [s.status for s in await projects.stages(p.id)] for p in await projects.projects()}
    assert statuses["openh"] == ["completed", "collecting"]
    assert statuses["kopikupi"] == ["collecting"]
    assert statuses["offices"] == ["refunded", "draft"]
    assert first["crowd_distributions"] == 2 and first["projects_spending"] == 2
    assert (await platform.service(Ledger).verify()).ok
