"""Maker-checker: a sensitive action waits for a second person's approval.

A plugin declares the permission as sensitive and registers what the action does::

    @hookimpl
    def permissions(register):
        register("payments.refund", "Refund a payment", sensitive=True)

    @hookimpl
    def register_approval_actions(register):
        register(ApprovalAction(name="payments.refund", permission="payments.refund",
                                run=refund_now, check=check_refund, describe=describe_refund))

and its admin route hands the request over instead of acting::

    outcome = await platform.service(Approvals).perform(identity, "payments.refund", {"payment": str(pid)})
    # outcome.status == "pending": someone else must approve it at /admin/access/approvals
    # outcome.status == "executed": the permission is not sensitive (or maker-checker is off)

``run(platform, payload, ctx)`` does the work inside a transaction when a different
person holding the same permission approves (or at once, for a permission that is not
sensitive); it records what it did in the audit log, and the approval's own steps
(requested, executed, rejected...) are recorded here. ``check``
runs when the request is made and again at approval, with the identity of whoever acts
then, so the nesting rules of roles and the state of the target are checked twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from litestar.exceptions import ClientException, HTTPException, NotFoundException, PermissionDeniedException

from core.access import Identity
from core.access.audit import AuditLog
from core.access.inputs import plain_text
from core.access.permissions import PermissionRegistry
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.access.settings import AccessSettings
    from core.platform import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionContext:
    """Who asked for an action and who approved it (``checker`` is None when no approval was needed)."""

    maker: Identity
    checker: Identity | None
    approval_id: UUID | None

    @property
    def acting(self) -> Identity:
        return self.checker or self.maker


RunAction = Callable[["Platform", dict[str, Any], ActionContext], Awaitable[Mapping[str, Any] | None]]
CheckAction = Callable[["Platform", dict[str, Any], Identity], Awaitable[None]]


@dataclass(frozen=True)
class ApprovalAction:
    #: ``"<plugin>.<action>"``; usually the same as the permission.
    name: str
    #: Needed to ask for the action and to approve it.
    permission: str
    run: RunAction
    #: Raise an HTTPException when ``identity`` may not do it to this payload (now).
    check: CheckAction | None = None
    #: One line for the approval queue: what exactly will happen.
    describe: Callable[[dict[str, Any]], str] | None = None


@dataclass(frozen=True)
class Outcome:
    status: str
    approval_id: UUID | None = None
    result: Mapping[str, Any] | None = None
    error: str | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"


@dataclass(frozen=True)
class ApprovalRequest:
    id: UUID
    action: str
    permission: str
    payload: dict[str, Any]
    summary: str
    reason: str
    status: str
    maker_id: UUID
    checker_id: UUID | None
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    result: dict[str, Any] | None


class Approvals:
    def __init__(self, platform: Platform, settings: AccessSettings, registry: PermissionRegistry) -> None:
        self.platform = platform
        self.settings = settings
        self.registry = registry
        self.actions: dict[str, ApprovalAction] = {}

    async def start(self) -> None:
        self.actions = {}
        for plugin, action in self.platform.plugins.collect_registered(
            "register_approval_actions", platform=self.platform
        ):
            if action.name in self.actions:
                raise ValueError(f"plugin {plugin!r}: approval action {action.name!r} is registered twice")
            if action.permission not in self.registry:
                raise ValueError(
                    f"plugin {plugin!r}: approval action {action.name!r} needs the undeclared "
                    f"permission {action.permission!r}"
                )
            self.actions[action.name] = action

    @property
    def db(self):
        return self.platform.db

    @property
    def audit(self) -> AuditLog:
        return self.platform.service(AuditLog)

    def action(self, name: str) -> ApprovalAction:
        try:
            return self.actions[name]
        except KeyError:
            raise LookupError(
                f"no approval action named {name!r}; registered: {', '.join(self.actions)}"
            ) from None

    def needs_approval(self, action: ApprovalAction) -> bool:
        return self.settings.maker_checker and self.registry.is_sensitive(action.permission)

    def _summary(self, action: ApprovalAction, payload: dict[str, Any]) -> str:
        return action.describe(payload) if action.describe else f"{action.name} {payload}"

    # -- asking ---------------------------------------------------------------------------

    async def perform(
        self, identity: Identity, name: str, payload: Mapping[str, Any], *, reason: str = ""
    ) -> Outcome:
        """Do the action now, or queue it for approval when its permission is sensitive."""
        action = self.action(name)
        payload = dict(payload)
        reason = plain_text(reason, 2000)
        if not identity.is_authenticated or not identity.can(action.permission):
            raise PermissionDeniedException(
                _("this needs the permission %(permission)s", permission=action.permission)
            )
        if action.check is not None:
            await action.check(self.platform, payload, identity)
        if not self.needs_approval(action):
            # The action's own code records what it did in the audit log.
            async with self.db.transaction():
                result = await action.run(self.platform, payload, ActionContext(identity, None, None))
            return Outcome("executed", None, result)
        approval_id = uuid4()
        summary = self._summary(action, payload)
        async with self.db.transaction():
            await self.db.execute(
                """INSERT INTO access_approvals (id, action, permission, payload, summary, reason, maker_id, expires_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp() + make_interval(hours => $8))""",
                approval_id,
                name,
                action.permission,
                payload,
                summary[:2000],
                reason[:2000],
                identity.user_id,
                self.settings.approval_ttl_hours,
            )
            await self.audit.record(
                action="access.approval.requested",
                actor=identity,
                target=f"approval:{approval_id}",
                details={"action": name, "payload": payload, "reason": reason},
            )
        await self._tell_checkers(action, approval_id, identity, summary)
        return Outcome("pending", approval_id)

    async def _tell_checkers(
        self, action: ApprovalAction, approval_id: UUID, maker: Identity, summary: str
    ) -> None:
        from core.access.roles import Roles
        from core.notifications.service import NotificationService

        if not (self.platform.has_service(Roles) and self.platform.has_service(NotificationService)):
            return
        notifications = self.platform.service(NotificationService)
        for user_id in (await self.platform.service(Roles).holders(action.permission))[:50]:
            if user_id != maker.user_id:
                await notifications.notify(
                    user_id,
                    "access.approval_requested",
                    {"approval_id": str(approval_id), "summary": summary},
                    via=(),
                )

    # -- deciding -------------------------------------------------------------------------

    async def approve(self, identity: Identity, approval_id: UUID, note: str = "") -> Outcome:
        """Approve and run a pending action; the approver must hold its permission and not be its maker."""
        note = plain_text(note, 2000)
        async with self.db.transaction():
            request = await self._pending_for_update(approval_id)
            action = self.action(request.action)
            self._check_checker(identity, request, action)
            try:
                async with (
                    self.db.transaction()
                ):  # a savepoint: a failed action leaves the decision to record
                    if action.check is not None:
                        await action.check(self.platform, request.payload, identity)
                    maker = Identity(user_id=request.maker_id)
                    result = await action.run(
                        self.platform, request.payload, ActionContext(maker, identity, approval_id)
                    )
            except HTTPException as exc:
                return await self._decide(request, identity, "failed", note, error=str(exc.detail))
            return await self._decide(request, identity, "executed", note, result=dict(result or {}))

    async def reject(self, identity: Identity, approval_id: UUID, note: str = "") -> Outcome:
        note = plain_text(note, 2000)
        async with self.db.transaction():
            request = await self._pending_for_update(approval_id)
            self._check_checker(identity, request, self.action(request.action))
            return await self._decide(request, identity, "rejected", note)

    async def cancel(self, identity: Identity, approval_id: UUID) -> Outcome:
        """The maker withdraws their own request."""
        async with self.db.transaction():
            request = await self._pending_for_update(approval_id)
            if request.maker_id != identity.user_id:
                raise PermissionDeniedException(_("only whoever asked for an action can cancel it"))
            return await self._decide(request, identity, "cancelled", "")

    def _check_checker(self, identity: Identity, request: ApprovalRequest, action: ApprovalAction) -> None:
        if not identity.can(action.permission):
            raise PermissionDeniedException(
                _("approving this needs the permission %(permission)s", permission=action.permission)
            )
        if identity.user_id == request.maker_id:
            raise PermissionDeniedException(_("you asked for this action: another person must approve it"))

    async def _pending_for_update(self, approval_id: UUID) -> ApprovalRequest:
        row = await self.db.fetchrow(
            """SELECT *, expires_at < clock_timestamp() AS expired FROM access_approvals WHERE id = $1 FOR UPDATE""",
            approval_id,
        )
        if row is None:
            raise NotFoundException(_("no approval request %(id)s", id=approval_id))
        if row["status"] != "pending":
            raise ClientException(
                _("this request is already %(status)s", status=_(row["status"])), status_code=409
            )
        if row["expired"]:
            raise ClientException(_("this request has expired; ask again"), status_code=409)
        return _request(row)

    async def _decide(
        self,
        request: ApprovalRequest,
        identity: Identity,
        status: str,
        note: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> Outcome:
        await self.db.execute(
            """UPDATE access_approvals SET status = $2, checker_id = $3, decided_at = clock_timestamp(),
                      decision_note = $4, result = $5 WHERE id = $1""",
            request.id,
            status,
            identity.user_id,
            note[:2000],
            result if error is None else {"error": error},
        )
        await self.audit.record(
            action=f"access.approval.{status}",
            actor=identity,
            target=f"approval:{request.id}",
            details={
                "action": request.action,
                "payload": request.payload,
                "maker": str(request.maker_id),
                "note": note,
                **({"error": error} if error else {}),
            },
        )
        return Outcome(status, request.id, result, error)

    # -- reading ---------------------------------------------------------------------------

    async def get(self, approval_id: UUID) -> ApprovalRequest:
        row = await self.db.fetchrow("SELECT * FROM access_approvals WHERE id = $1", approval_id)
        if row is None:
            raise NotFoundException(_("no approval request %(id)s", id=approval_id))
        return _request(row)

    async def list(
        self, *, status: str | None = "pending", limit: int = 50, before: dt.datetime | None = None
    ) -> list[ApprovalRequest]:
        rows = await self.db.fetch(
            """SELECT * FROM access_approvals WHERE ($1::varchar IS NULL OR status = $1)
                 AND ($2::timestamptz IS NULL OR created_at < $2)
               ORDER BY created_at DESC LIMIT $3""",
            status,
            before,
            max(1, min(limit, 200)),
        )
        return [_request(r) for r in rows]

    async def expire_stale(self) -> int:
        status = await self.db.execute(
            "UPDATE access_approvals SET status = 'expired', decided_at = clock_timestamp() "
            "WHERE status = 'pending' AND expires_at < clock_timestamp()"
        )
        return int(status.split()[-1])


def _request(row: Any) -> ApprovalRequest:
    return ApprovalRequest(
        row["id"],
        row["action"],
        row["permission"],
        row["payload"] or {},
        row["summary"],
        row["reason"],
        row["status"],
        row["maker_id"],
        row["checker_id"],
        row["created_at"],
        row["expires_at"],
        row["decided_at"],
        row["decision_note"],
        row["result"],
    )
