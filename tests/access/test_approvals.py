"""Maker-checker as a mechanism any plugin's admin action can use."""

import uuid

import pytest
from litestar.exceptions import ClientException, PermissionDeniedException

from core import hookimpl
from core.access import Identity
from core.access.approvals import ApprovalAction, Approvals
from core.users.testing import FAST_HASHING, make_user


class Vault:
    """A throwaway plugin with one sensitive and one ordinary action."""

    def __init__(self):
        self.opened = []

    @hookimpl
    def permissions(self, register):
        register("vault.open", "Open the vault", sensitive=True)
        register("vault.peek", "Peek into the vault")

    @hookimpl
    def register_approval_actions(self, register):
        async def open_vault(platform, payload, ctx):
            if payload.get("door") == "stuck":
                raise ClientException("the door is stuck", status_code=409)
            self.opened.append(
                (payload["door"], ctx.maker.user_id, ctx.checker.user_id if ctx.checker else None)
            )
            return {"opened": payload["door"]}

        async def check(platform, payload, identity):
            if payload.get("door") == "forbidden":
                raise PermissionDeniedException("nobody opens that door")

        register(
            ApprovalAction("vault.open", "vault.open", open_vault, check, lambda p: f"Open door {p['door']}")
        )
        register(ApprovalAction("vault.peek", "vault.peek", open_vault))


def person(*permissions):
    return Identity(user_id=uuid.uuid4(), permissions=frozenset(permissions), via="test")


@pytest.fixture
async def vault(make_platform):
    plugin = Vault()
    platform = await make_platform(settings=FAST_HASHING, extra_plugins={"vault": plugin})
    return platform, plugin


async def test_sensitive_action_waits_for_someone_else(vault):
    platform, plugin = vault
    approvals = platform.service(Approvals)
    maker = await make_user(platform)
    maker_id = Identity(user_id=maker.id, permissions=frozenset({"vault.open"}))
    outcome = await approvals.perform(maker_id, "vault.open", {"door": "7"}, reason="audit")
    assert outcome.pending and plugin.opened == []
    request = await approvals.get(outcome.approval_id)
    assert request.summary == "Open door 7" and request.reason == "audit"
    with pytest.raises(PermissionDeniedException, match="another person"):
        await approvals.approve(maker_id, outcome.approval_id)
    with pytest.raises(PermissionDeniedException, match="vault.open"):
        await approvals.approve(person("vault.peek"), outcome.approval_id)
    checker = person("vault.open")
    done = await approvals.approve(checker, outcome.approval_id, "fine")
    assert done.status == "executed" and done.result == {"opened": "7"}
    assert plugin.opened == [("7", maker.id, checker.user_id)]
    with pytest.raises(ClientException, match="already executed"):
        await approvals.approve(person("vault.open"), outcome.approval_id)
    actions = [r["action"] for r in await platform.db.fetch("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["access.approval.requested", "access.approval.executed"]


async def test_ordinary_action_runs_at_once(vault):
    platform, plugin = vault
    outcome = await platform.service(Approvals).perform(person("vault.peek"), "vault.peek", {"door": "1"})
    assert outcome.status == "executed" and plugin.opened[0][0] == "1"


async def test_the_check_runs_when_asking(vault):
    platform, _ = vault
    with pytest.raises(PermissionDeniedException, match="nobody opens"):
        await platform.service(Approvals).perform(person("vault.open"), "vault.open", {"door": "forbidden"})
    with pytest.raises(PermissionDeniedException):
        await platform.service(Approvals).perform(person("vault.peek"), "vault.open", {"door": "1"})


async def test_a_failing_action_is_recorded_as_failed(vault):
    platform, _plugin = vault
    approvals = platform.service(Approvals)
    outcome = await approvals.perform(person("vault.open"), "vault.open", {"door": "stuck"})
    failed = await approvals.approve(person("vault.open"), outcome.approval_id)
    assert failed.status == "failed" and "stuck" in failed.error
    assert (await approvals.get(outcome.approval_id)).status == "failed"


async def test_reject_cancel_and_expiry(vault):
    platform, plugin = vault
    approvals = platform.service(Approvals)
    maker = person("vault.open")
    rejected = await approvals.perform(maker, "vault.open", {"door": "2"})
    assert (await approvals.reject(person("vault.open"), rejected.approval_id, "no")).status == "rejected"
    cancelled = await approvals.perform(maker, "vault.open", {"door": "3"})
    with pytest.raises(PermissionDeniedException):
        await approvals.cancel(person("vault.open"), cancelled.approval_id)
    assert (await approvals.cancel(maker, cancelled.approval_id)).status == "cancelled"
    stale = await approvals.perform(maker, "vault.open", {"door": "4"})
    await platform.db.execute(
        "UPDATE access_approvals SET expires_at = now() - interval '1 minute' WHERE id = $1",
        stale.approval_id,
    )
    with pytest.raises(ClientException, match="expired"):
        await approvals.approve(person("vault.open"), stale.approval_id)
    assert await approvals.expire_stale() == 1
    assert plugin.opened == []


async def test_maker_checker_can_be_switched_off(make_platform):
    plugin = Vault()
    settings = {**FAST_HASHING, "core.access": {"maker_checker": False}}
    platform = await make_platform(settings=settings, extra_plugins={"vault": plugin})
    outcome = await platform.service(Approvals).perform(person("vault.open"), "vault.open", {"door": "5"})
    assert outcome.status == "executed"


async def test_an_action_needs_a_declared_permission(make_platform):
    class Sloppy:
        @hookimpl
        def register_approval_actions(self, register):
            async def run(platform, payload, ctx):
                return None

            register(ApprovalAction("sloppy.thing", "sloppy.undeclared", run))

    with pytest.raises(ValueError, match="undeclared permission"):
        await make_platform(settings=FAST_HASHING, extra_plugins={"sloppy": Sloppy()})
