"""Roles: built-in ones from patterns, nesting, and the last superadmin."""

import uuid

import pytest
from litestar.exceptions import ClientException, PermissionDeniedException

from core.access import Identity
from core.access.permissions import Permission, PermissionRegistry
from core.access.roles import BUILTIN_ROLES, Roles
from core.users.testing import make_user


async def test_builtin_roles_exist_with_matching_permissions(platform):
    roles = {r.code: r for r in await platform.service(Roles).list()}
    assert [spec.code for spec in BUILTIN_ROLES] == list(roles)
    everything = platform.service(PermissionRegistry).codes()
    assert roles["superadmin"].permissions == everything
    assert roles["admin"].permissions == everything - {"access.roles.manage"}
    assert roles["customer"].permissions == frozenset()
    assert {"admin.access", "users.view"} <= roles["support"].permissions
    assert "users.delete" not in roles["support"].permissions


async def test_sync_adds_new_permissions_to_unedited_roles_only(platform):
    roles = platform.service(Roles)
    await roles.set_permissions("support", ["admin.access"], by=None)
    platform.service(PermissionRegistry).add(Permission("users.export", "Export users"))
    await roles.sync_builtin()
    assert "users.export" in (await roles.get("admin")).permissions
    assert (await roles.get("support")).permissions == {"admin.access"}, "an edited role is left as edited"


async def test_nobody_grants_what_they_do_not_hold(platform):
    roles = platform.service(Roles)
    target = await make_user(platform)
    support_only = Identity(user_id=uuid.uuid4(), permissions=(await roles.get("support")).permissions)
    with pytest.raises(PermissionDeniedException, match="do not hold"):
        await roles.grant(target.id, "finance", by=support_only)
    assert await roles.grant(target.id, "support", by=support_only) is True
    assert await roles.grant(target.id, "support", by=support_only) is False, "granted once"
    admin = Identity(user_id=uuid.uuid4(), permissions=(await roles.get("admin")).permissions)
    with pytest.raises(PermissionDeniedException):
        await roles.set_permissions("support", ["access.roles.manage"], by=admin)
    with pytest.raises(PermissionDeniedException):
        await roles.create("auditor", "Auditor", "", ["access.roles.manage"], by=admin)
    created = await roles.create("auditor", "Auditor", "reads the log", ["audit.view"], by=admin)
    assert created.permissions == {"audit.view"}
    with pytest.raises(ClientException, match="unknown permission"):
        await roles.set_permissions("auditor", ["no.such"], by=None)
    with pytest.raises(ClientException, match="already exists"):
        await roles.create("auditor", "Again", "", [], by=None)


async def test_the_last_superadmin_keeps_the_role(platform):
    roles = platform.service(Roles)
    only = await make_user(platform, roles=("customer", "superadmin"))
    with pytest.raises(ClientException, match="last superadmin"):
        await roles.revoke(only.id, "superadmin", by=None)
    second = await make_user(platform, roles=("customer", "superadmin"))
    assert await roles.revoke(only.id, "superadmin", by=None)
    assert await roles.permissions_of_user(second.id) == platform.service(PermissionRegistry).codes()


async def test_permission_codes_are_checked(platform):
    registry = platform.service(PermissionRegistry)
    with pytest.raises(ValueError, match="already declared"):
        registry.add(Permission("users.view", "again"))
    with pytest.raises(ValueError, match="<plugin>.<action>"):
        registry.add(Permission("Bad Code", "nope"))
    assert registry.is_sensitive("users.delete") and not registry.is_sensitive("users.view")
    assert registry.matching(("*.view",)) >= {"users.view", "audit.view"}
