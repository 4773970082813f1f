"""The maker-checker actions of ``core.access``: granting roles and changing them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import ValidationException

from core.access import Identity
from core.access.approvals import ActionContext, ApprovalAction
from core.access.roles import Roles
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.platform import Platform


def _user_id(payload: dict[str, Any]) -> UUID:
    try:
        return UUID(str(payload["user_id"]))
    except (KeyError, ValueError):
        raise ValidationException(_("user_id: not a user id")) from None


async def _check_assign(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    roles = platform.service(Roles)
    role = await roles.get(str(payload.get("role", "")))
    roles.check_holds(
        identity, role.permissions, f"{'grant' if payload.get('grant') else 'revoke'} the role {role.code!r}"
    )
    await roles.check_can_manage_user(identity, _user_id(payload))


async def _assign(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    roles = platform.service(Roles)
    user_id, role = _user_id(payload), str(payload["role"])
    if payload.get("grant"):
        changed = await roles.grant(user_id, role, by=ctx.acting)
    else:
        changed = await roles.revoke(user_id, role, by=ctx.acting)
    return {"changed": changed}


def _describe_assign(payload: dict[str, Any]) -> str:
    verb = "Grant" if payload.get("grant") else "Revoke"
    return f"{verb} the role {payload.get('role')} {'to' if payload.get('grant') else 'from'} user {payload.get('user_id')}"


async def _check_manage(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    roles = platform.service(Roles)
    wanted = set(payload.get("permissions") or [])
    roles._check_known(wanted)
    if payload.get("create"):
        roles.check_holds(identity, wanted, "create a role with these permissions")
    else:
        role = await roles.get(str(payload.get("role", "")))
        roles.check_holds(identity, role.permissions | wanted, f"edit the role {role.code!r}")


async def _manage(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    roles = platform.service(Roles)
    code = str(payload["role"])
    permissions = list(payload.get("permissions") or [])
    if payload.get("create"):
        role = await roles.create(
            code,
            str(payload.get("name", code)),
            str(payload.get("description", "")),
            permissions,
            by=ctx.acting,
        )
    else:
        role = await roles.set_permissions(code, permissions, by=ctx.acting)
    return {"role": role.code, "permissions": sorted(role.permissions)}


def _describe_manage(payload: dict[str, Any]) -> str:
    perms = ", ".join(payload.get("permissions") or []) or "none"
    if payload.get("create"):
        return f"Create the role {payload.get('role')} with: {perms}"
    return f"Set the permissions of the role {payload.get('role')} to: {perms}"


def role_actions() -> list[ApprovalAction]:
    return [
        ApprovalAction(
            "access.roles.assign", "access.roles.assign", _assign, _check_assign, _describe_assign
        ),
        ApprovalAction(
            "access.roles.manage", "access.roles.manage", _manage, _check_manage, _describe_manage
        ),
    ]
