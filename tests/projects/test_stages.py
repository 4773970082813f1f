"""The stage status machine, collection windows, caps and the hooks that report stage moves."""

import datetime as dt
import types

import pytest

from core import hookimpl
from core.ledger import Ledger
from core.projects import Conflict, Invalid, ProjectService, StageStatus
from core.projects.models import TRANSITIONS, check_transition
from tests.projects.helpers import open_stage, published_project


@pytest.fixture
def projects(platform):
    return platform.service(ProjectService)


def test_only_the_documented_moves_are_allowed():
    allowed = {(a, b) for a, nexts in TRANSITIONS.items() for b in nexts}
    assert allowed == {("draft", "collecting"), ("collecting", "funded"), ("collecting", "failed"),
                       ("funded", "in_progress"), ("in_progress", "completed"), ("failed", "refunded")}
    for old in StageStatus:
        for new in StageStatus:
            if (old, new) in allowed:
                check_transition(old, new)
            else:
                with pytest.raises(Conflict):
                    check_transition(old, new)


async def test_a_stage_opens_with_an_escrow_account_and_a_window(platform, projects):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=100_000_00, cap=120_000_00)
    assert stage.status == StageStatus.COLLECTING and stage.opens_at and stage.closes_at
    escrow = await platform.service(Ledger).find_account(owner=f"stage:{stage.id}", purpose="escrow", currency="RUB")
    assert escrow is not None
    assert [h["new_status"] for h in await projects.history(stage.id)] == ["collecting"]


async def test_opening_checks_publication_budget_and_previous_stage(platform, projects):
    project = await projects.create_project(slug="draft-one", title="Draft", kind="crowdinvesting")
    stage = await projects.add_stage(project.id, title="One", target_minor=1000_00)
    with pytest.raises(Conflict, match="publish the project"):
        await projects.open_collection(stage.id)
    await projects.update_project(project.id, visibility="published")
    await projects.add_budget_line(stage.id, title="Must", planned_minor=1500_00, required=True)
    with pytest.raises(Invalid, match="target"):
        await projects.open_collection(stage.id)
    await projects.update_stage(stage.id, target_minor=1500_00, cap_minor=1500_00)
    await projects.add_budget_line(stage.id, title="Nice to have", planned_minor=500_00, required=False)
    with pytest.raises(Invalid, match="cap"):
        await projects.open_collection(stage.id)
    await projects.update_stage(stage.id, cap_minor=2000_00)
    first = await projects.open_collection(stage.id)
    second = await projects.add_stage(project.id, title="Two", target_minor=1000_00)
    with pytest.raises(Conflict, match="one stage collects at a time"):
        await projects.open_collection(second.id)
    async with platform.db.transaction():
        await projects.record_contribution(first.id, 2000_00)  # the cap: funded at once
    assert (await projects.stage(first.id)).status == StageStatus.FUNDED
    with pytest.raises(Conflict, match="must be completed"):
        await projects.open_collection(second.id)
    with pytest.raises(Conflict, match="only a draft stage"):
        await projects.update_stage(first.id, title="Renamed")


async def test_contributions_stop_at_the_cap_and_window(platform, projects):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=1000, cap=1500)
    async with platform.db.transaction():
        result = await projects.record_contribution(stage.id, 1000)
    assert (result.stage.collected_minor, result.funded_now) == (1000, False)
    with pytest.raises(Conflict, match=r"only RUB5\.00 more"):
        async with platform.db.transaction():
            await projects.record_contribution(stage.id, 501)
    late = stage.closes_at + dt.timedelta(seconds=1)
    with pytest.raises(Conflict, match="closed at"):
        async with platform.db.transaction():
            await projects.record_contribution(stage.id, 100, now=late)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        await projects.record_contribution(stage.id, 100)
    async with platform.db.transaction():
        result = await projects.record_contribution(stage.id, 500)
    assert result.funded_now and result.stage.status == StageStatus.FUNDED


async def test_due_stages_close_funded_or_failed(platform, projects):
    reached = await open_stage(platform, await published_project(platform), target=1000, cap=5000)
    short = await open_stage(platform, await published_project(platform), target=1000)
    async with platform.db.transaction():
        await projects.record_contribution(reached.id, 1000)
        await projects.record_contribution(short.id, 999)
    assert await projects.close_due_stages(dt.datetime.now(dt.UTC)) == []
    closed = await projects.close_due_stages(short.closes_at + dt.timedelta(minutes=1))
    assert {s.id: s.status for s in closed} == {reached.id: StageStatus.FUNDED, short.id: StageStatus.FAILED}
    with pytest.raises(Conflict, match="not refunded yet"):
        await projects.mark_refunded(short.id)


async def test_stage_moves_fire_the_hook_after_commit(make_platform):
    seen = []
    probe = types.SimpleNamespace(on_stage_changed=hookimpl(
        lambda stage, old_status, new_status: seen.append((stage.position, old_status, new_status))))
    platform = await make_platform(extra_plugins={"probe": probe})
    projects = platform.service(ProjectService)
    project = await published_project(platform)
    stage = await projects.add_stage(project.id, title="Only", target_minor=100)
    async with platform.db.transaction():
        await projects.open_collection(stage.id)
        assert seen == []  # not before the commit
    assert seen == [(1, "draft", "collecting")]
    await projects.close_collection(stage.id)
    assert seen[-1] == (1, "collecting", "failed")
