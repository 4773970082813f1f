"""Admin actions on users, run through maker-checker (``core.access.approvals``).

Blocking is not sensitive (fraud needs it at once) and runs straight away; deleting is
sensitive and waits for a second administrator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import ValidationException

from core.access import Identity
from core.access.approvals import ActionContext, ApprovalAction
from core.access.roles import Roles
from core.users.service import Users
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.platform import Platform


def _user_id(payload: dict[str, Any]) -> UUID:
    try:
        return UUID(str(payload["user_id"]))
    except (KeyError, ValueError):
        raise ValidationException(_("user_id: not a user id")) from None


async def _check(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    user_id = _user_id(payload)
    await platform.service(Users).get(user_id)
    await platform.service(Roles).check_can_manage_user(identity, user_id)


async def _block(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    user = await platform.service(Users).block(
        _user_id(payload), str(payload.get("reason", "")), by=ctx.acting
    )
    return {"status": user.status}


async def _unblock(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    user = await platform.service(Users).unblock(_user_id(payload), by=ctx.acting)
    return {"status": user.status}


async def _delete(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    await platform.service(Users).delete(_user_id(payload), by=ctx.acting)
    return {"status": "deleted"}


def user_actions() -> list[ApprovalAction]:
    return [
        ApprovalAction(
            "users.block",
            "users.block",
            _block,
            _check,
            lambda p: f"Block user {p.get('user_id')}: {p.get('reason', '')}",
        ),
        ApprovalAction(
            "users.unblock", "users.block", _unblock, _check, lambda p: f"Unblock user {p.get('user_id')}"
        ),
        ApprovalAction(
            "users.delete",
            "users.delete",
            _delete,
            _check,
            lambda p: f"Delete user {p.get('user_id')} and erase their personal data",
        ),
    ]
