"""Maker-checker for giving an unclaimed note to a customer (``terminals.assign``, sensitive).

One person says whose the note is (from the kiosk's session log, the customer's receipt, the
CCTV); a second person approves, and only then does the money reach the customer's wallet.
Nobody assigns a note to themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from litestar.exceptions import PermissionDeniedException

from core.access.approvals import ActionContext, ApprovalAction
from core.money import Money
from core.web.i18n import gettext as _
from plugins.terminals.records import Conflict, not_found

if TYPE_CHECKING:
    from core.access import Identity
    from core.platform import Platform

ASSIGN = "terminals.assign"


def _service(platform: Platform) -> Any:
    from plugins.terminals.service import Terminals

    return platform.service(Terminals)


async def check_assign(platform: Platform, payload: dict[str, Any], identity: Identity) -> None:
    if identity.user_id is not None and str(identity.user_id) == str(payload["user_id"]):
        raise PermissionDeniedException(_("nobody gives a note to themselves"))
    row = await platform.db.fetchrow("SELECT credited_to, assigned_to FROM terminals_events WHERE id = $1",
                                     int(payload["event"]))
    if row is None or row["credited_to"] not in ("unclaimed", "review"):
        raise not_found(_("unclaimed note"), payload["event"])
    if row["assigned_to"] is not None:
        raise Conflict(_("this note was given to a customer already"))


async def run_assign(platform: Platform, payload: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    amount = Money(int(payload["amount_minor"]), payload["currency"]) if payload.get("amount_minor") else None
    record = await _service(platform).crediting.assign(int(payload["event"]), UUID(str(payload["user_id"])),
                                                       amount=amount, actor=ctx.acting)
    return {"event": record.event_id, "amount": str(record.amount) if record.amount else ""}


def describe_assign(payload: dict[str, Any]) -> str:
    amount = f" ({Money(int(payload['amount_minor']), payload['currency'])})" if payload.get("amount_minor") else ""
    return f"give note #{payload['event']}{amount} at {payload.get('terminal', '?')} to user {payload['user_id']}"


ACTIONS = [ApprovalAction(name=ASSIGN, permission=ASSIGN, run=run_assign, check=check_assign,
                          describe=describe_assign)]
