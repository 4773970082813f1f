"""Spending against budget lines: documents, finance's approval releasing escrow, planned against actual."""

import datetime as dt
import uuid

import pytest

from core.access.audit import AuditLog
from core.ledger import Ledger, new_transfer_id
from core.projects import Conflict, Invalid, ProjectService, StageStatus, Upload
from core.projects.reports import planned_vs_actual
from tests.projects.helpers import PDF, PNG, open_stage, published_project


async def funded_stage(platform):
    """A stage that collected 10,000.00 into its escrow (as an investor's transfer would)."""
    projects = platform.service(ProjectService)
    ledger = platform.service(Ledger)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=10_000_00,
                             lines=[("Plot", 6_000_00, True), ("Fence", 3_000_00, True), ("Garden", 1_000_00, False)])
    source = await ledger.open_account(owner="platform", purpose="test.funding", currency="RUB")
    async with platform.db.transaction():
        await projects.record_contribution(stage.id, 10_000_00)
        escrow = await projects.escrow_account(stage)
        assert (await ledger.transfer(id=new_transfer_id(), debit_account_id=source.id, credit_account_id=escrow.id,
                                      amount=10_000_00)).accepted
    return project, await projects.stage(stage.id), await projects.budget_lines(stage.id)


async def test_approved_spending_releases_escrow_to_the_implementation_account(platform):
    projects = platform.service(ProjectService)
    ledger = platform.service(Ledger)
    project, stage, (plot, fence, _garden) = await funded_stage(platform)
    assert stage.status == StageStatus.FUNDED
    manager, finance = uuid.uuid4(), uuid.uuid4()
    entry = await projects.record_spending(stage.id, budget_line_id=plot.id, amount_minor=6_200_00,
                                           description="Plot 14, deed", payee="Land registry",
                                           spent_on=dt.date(2026, 11, 20), documents=[Upload(PDF, "deed.pdf")],
                                           actor=manager)
    assert entry.status == "submitted" and entry.attachments[0].content_type == "application/pdf"
    with pytest.raises(Conflict, match="cannot approve it"):
        await projects.approve_spending(entry.id, actor=manager)
    approved = await projects.approve_spending(entry.id, actor=finance, note="matches the deed")
    assert approved.status == "approved" and approved.release_transfer_id is not None
    with pytest.raises(Conflict, match="already approved"):
        await projects.approve_spending(entry.id, actor=finance)
    implementation = await ledger.find_account(owner=f"project:{project.id}", purpose="implementation",
                                               currency="RUB")
    assert (await ledger.balance(implementation.id)).posted == 6_200_00
    assert await projects.accounts.escrow_balance(stage) == 3_800_00
    stage = await projects.stage(stage.id)
    assert (stage.status, stage.released_minor, stage.in_escrow_minor) == (StageStatus.IN_PROGRESS, 6_200_00,
                                                                            3_800_00)

    bare = await projects.record_spending(stage.id, budget_line_id=fence.id, amount_minor=1_000_00,
                                          description="Posts", spent_on=dt.date(2026, 11, 21), actor=manager)
    with pytest.raises(Conflict, match="attach the receipt"):
        await projects.approve_spending(bare.id, actor=finance)
    await projects.attach_to_spending(bare.id, Upload(PNG, "receipt.png"), actor=manager)
    too_much = await projects.record_spending(stage.id, budget_line_id=fence.id, amount_minor=3_000_00,
                                              description="Wire", spent_on=dt.date(2026, 11, 21),
                                              documents=[Upload(PDF, "wire.pdf")], actor=manager)
    await projects.approve_spending(bare.id, actor=finance)
    with pytest.raises(Conflict, match="escrow holds"):
        await projects.approve_spending(too_much.id, actor=finance)
    with pytest.raises(Conflict, match="wait for approval"):
        await projects.complete_stage(stage.id)
    with pytest.raises(Invalid, match="why"):
        await projects.reject_spending(too_much.id, actor=finance, note=" ")
    await projects.reject_spending(too_much.id, actor=finance, note="over the remaining escrow")

    report = await planned_vs_actual(projects, project.id)
    lines = {line.line.title: line for line in report.stages[0].lines}
    assert (lines["Plot"].actual_minor, lines["Plot"].variance_minor) == (6_200_00, -200_00)
    assert (lines["Fence"].actual_minor, lines["Fence"].pending_minor) == (1_000_00, 0)
    assert report.stages[0].planned_minor == 10_000_00 and report.stages[0].required_minor == 9_000_00
    assert report.actual_minor == 7_200_00
    completed = await projects.complete_stage(stage.id)
    assert completed.status == StageStatus.COMPLETED
    assert (await ledger.verify()).ok
    audited = [e.action for e in await platform.service(AuditLog).search()]
    for action in ("projects.spending_approved", "projects.spending_rejected", "projects.stage_moved"):
        assert action in audited


async def test_documents_must_be_pdf_or_images(platform):
    projects = platform.service(ProjectService)
    _project, stage, (plot, *_rest) = await funded_stage(platform)
    for data, name, reason in ((b"MZ\x90\x00", "invoice.pdf", "only PDF and images"), (b"", "empty.pdf", "empty")):
        with pytest.raises(Invalid, match=reason):
            await projects.record_spending(stage.id, budget_line_id=plot.id, amount_minor=100, description="x",
                                           spent_on=dt.date(2026, 1, 1), documents=[Upload(data, name)])
    assert await projects.spending(stage_id=stage.id) == []


async def test_spending_waits_for_a_funded_stage(platform):
    projects = platform.service(ProjectService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=1000, lines=[("All", 1000, True)])
    line = (await projects.budget_lines(stage.id))[0]
    with pytest.raises(Conflict, match="once it is funded"):
        await projects.record_spending(stage.id, budget_line_id=line.id, amount_minor=10, description="early",
                                       spent_on=dt.date(2026, 1, 1))
    with pytest.raises(Conflict, match="budget was fixed"):
        await projects.add_budget_line(stage.id, title="Late", planned_minor=1)
