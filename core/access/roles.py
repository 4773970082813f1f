"""Roles: named sets of permissions that a superadmin configures and grants to users.

Levels nest: nobody grants, revokes or edits what they do not hold themselves, and
nobody changes the roles of someone who holds more than they do. The built-in roles
are created at start-up from permission patterns, so a plugin enabled later adds its
permissions to them, until a superadmin edits a role (then it is left as edited).
``superadmin`` always holds every permission and cannot be edited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException

from core.access import Identity
from core.access.audit import AuditLog
from core.access.inputs import plain_text
from core.web.i18n import gettext as _

if TYPE_CHECKING:
    from core.access.permissions import PermissionRegistry
    from core.platform import Platform

SUPERADMIN = "superadmin"
CUSTOMER = "customer"
_ROLE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    description: str
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


BUILTIN_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(CUSTOMER, "Customer", "Every user who confirmed their registration."),
    RoleSpec(
        "support",
        "Support",
        "Answers customers: sees users and the messages sent to them.",
        ("admin.access", "users.view", "notify.*.view", "notifications.view"),
    ),
    RoleSpec(
        "moderator",
        "Moderator",
        "Reviews what customers publish and submit.",
        ("admin.access", "users.view", "*.moderate", "*.review"),
    ),
    RoleSpec(
        "finance",
        "Finance",
        "Money: the ledger, payments and the business day.",
        ("admin.access", "users.view", "ledger.*", "payments.*", "jobs.*", "audit.view"),
    ),
    RoleSpec(
        "project_manager",
        "Project manager",
        "Runs projects and their stages.",
        ("admin.access", "projects.*", "crowdinvesting.*"),
    ),
    RoleSpec(
        "meeting_organizer",
        "Meeting organizer",
        "Calls and runs members' meetings.",
        ("admin.access", "meetings.*"),
    ),
    RoleSpec("admin", "Admin", "Everything but editing roles.", ("*",), ("access.roles.manage",)),
    RoleSpec(SUPERADMIN, "Superadmin", "Everything, including roles and their permissions.", ("*",)),
)


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    description: str
    builtin: bool
    customized: bool
    permissions: frozenset[str]


class Roles:
    def __init__(self, platform: Platform, registry: PermissionRegistry) -> None:
        self.platform = platform
        self.registry = registry

    @property
    def db(self):
        return self.platform.db

    @property
    def audit(self) -> AuditLog:
        return self.platform.service(AuditLog)

    # -- reading ----------------------------------------------------------------------

    async def list(self) -> list[Role]:
        rows = await self.db.fetch(
            """SELECT r.code, r.name, r.description, r.builtin, r.customized,
                      coalesce(array_agg(p.permission) FILTER (WHERE p.permission IS NOT NULL), '{}') AS perms
               FROM access_roles r LEFT JOIN access_role_permissions p ON p.role_code = r.code
               GROUP BY r.code ORDER BY r.rank, r.code"""
        )
        return [self._role(row) for row in rows]

    async def get(self, code: str) -> Role:
        for role in await self.list():
            if role.code == code:
                return role
        raise NotFoundException(_("no role with code %(code)s", code=plain_text(code, 64)))

    def _role(self, row) -> Role:
        perms = self.registry.codes() if row["code"] == SUPERADMIN else frozenset(row["perms"])
        return Role(row["code"], row["name"], row["description"], row["builtin"], row["customized"], perms)

    async def roles_of(self, user_id: UUID) -> set[str]:
        rows = await self.db.fetch("SELECT role_code FROM access_user_roles WHERE user_id = $1", user_id)
        return {r["role_code"] for r in rows}

    async def permissions_of_roles(self, codes: Iterable[str]) -> frozenset[str]:
        codes = list(codes)
        if SUPERADMIN in codes:
            return self.registry.codes()
        rows = await self.db.fetch(
            "SELECT DISTINCT permission FROM access_role_permissions WHERE role_code = ANY($1::varchar[])",
            codes,
        )
        return frozenset(r["permission"] for r in rows) & self.registry.codes()

    def effective(self, roles: Iterable[str], permissions: Iterable[str]) -> frozenset[str]:
        """Permissions from a session query: every one for a superadmin, else those still declared."""
        if SUPERADMIN in roles:
            return self.registry.codes()
        return frozenset(permissions) & self.registry.codes()

    async def permissions_of_user(self, user_id: UUID) -> frozenset[str]:
        return await self.permissions_of_roles(await self.roles_of(user_id))

    async def holders(self, permission: str) -> list[UUID]:
        """Users holding ``permission`` through any role (for telling checkers there is work)."""
        rows = await self.db.fetch(
            """SELECT DISTINCT ur.user_id FROM access_user_roles ur
               LEFT JOIN access_role_permissions p ON p.role_code = ur.role_code
               WHERE ur.role_code = $2 OR p.permission = $1""",
            permission,
            SUPERADMIN,
        )
        return [r["user_id"] for r in rows]

    # -- the nesting rules --------------------------------------------------------------

    def check_holds(self, actor: Identity, permissions: Iterable[str], what: str) -> None:
        missing = sorted(set(permissions) - set(actor.permissions))
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise PermissionDeniedException(
                _(
                    "you cannot %(what)s: it carries permissions you do not hold (%(missing)s)",
                    what=what,
                    missing=shown,
                )
            )

    async def check_can_manage_user(self, actor: Identity, user_id: UUID) -> None:
        """Only someone holding at least everything ``user_id`` holds may change their account or roles."""
        if actor.user_id == user_id:
            return
        self.check_holds(actor, await self.permissions_of_user(user_id), "change this user")

    # -- writing ------------------------------------------------------------------------

    async def sync_builtin(self) -> None:
        """Create the built-in roles, and give the unedited ones every matching permission."""
        async with self.db.transaction() as conn:
            for rank, spec in enumerate(BUILTIN_ROLES):
                await conn.execute(
                    """INSERT INTO access_roles (code, name, description, rank, builtin)
                       VALUES ($1, $2, $3, $4, true) ON CONFLICT (code) DO NOTHING""",
                    spec.code,
                    spec.name,
                    spec.description,
                    rank,
                )
                if spec.code == SUPERADMIN:
                    continue
                customized = await conn.fetchval(
                    "SELECT customized FROM access_roles WHERE code = $1", spec.code
                )
                if customized:
                    continue
                wanted = self.registry.matching(spec.patterns) - self.registry.matching(spec.exclude)
                await conn.execute(
                    """INSERT INTO access_role_permissions (role_code, permission)
                       SELECT $1, unnest($2::varchar[]) ON CONFLICT DO NOTHING""",
                    spec.code,
                    sorted(wanted),
                )

    async def grant(self, user_id: UUID, code: str, *, by: Identity | None) -> bool:
        """Give ``user_id`` the role; ``by`` must hold all of it (None: the platform itself). True if new."""
        role = await self.get(code)
        if by is not None:
            self.check_holds(by, role.permissions, f"grant the role {code!r}")
            await self.check_can_manage_user(by, user_id)
        async with self.db.transaction() as conn:
            added = await conn.fetchval(
                """INSERT INTO access_user_roles (user_id, role_code, granted_by) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING RETURNING role_code""",
                user_id,
                code,
                by.user_id if by else None,
            )
            if added and code != CUSTOMER:
                await self.audit.record(
                    action="access.role.granted", target=f"user:{user_id}", details={"role": code}
                )
        return bool(added)

    async def revoke(self, user_id: UUID, code: str, *, by: Identity | None) -> bool:
        role = await self.get(code)
        if by is not None:
            self.check_holds(by, role.permissions, f"revoke the role {code!r}")
            await self.check_can_manage_user(by, user_id)
        async with self.db.transaction() as conn:
            if code == SUPERADMIN:
                # Lock the superadmins' rows so two revocations cannot both see "one more left".
                others = await conn.fetch(
                    "SELECT user_id FROM access_user_roles WHERE role_code = $1 FOR UPDATE", SUPERADMIN
                )
                if [r["user_id"] for r in others] == [user_id]:
                    raise ClientException(_("the last superadmin cannot lose the role"), status_code=409)
            removed = await conn.fetchval(
                "DELETE FROM access_user_roles WHERE user_id = $1 AND role_code = $2 RETURNING role_code",
                user_id,
                code,
            )
            if removed:
                await self.audit.record(
                    action="access.role.revoked", target=f"user:{user_id}", details={"role": code}
                )
        return bool(removed)

    async def create(
        self, code: str, name: str, description: str, permissions: Iterable[str], *, by: Identity | None
    ) -> Role:
        if not _ROLE_CODE.fullmatch(code):
            raise ClientException(
                _(
                    "role code %(code)s: use 2-64 lower-case letters, digits or '_'",
                    code=plain_text(code, 64),
                ),
                status_code=422,
            )
        permissions = set(permissions)
        self._check_known(permissions)
        if by is not None:
            self.check_holds(by, permissions, "create a role with these permissions")
        async with self.db.transaction() as conn:
            created = await conn.fetchval(
                """INSERT INTO access_roles (code, name, description, rank, customized)
                   VALUES ($1, $2, $3, 1000, true) ON CONFLICT DO NOTHING RETURNING code""",
                code,
                plain_text(name, 200) or code,
                plain_text(description, 500),
            )
            if not created:
                raise ClientException(
                    _("a role with code %(code)s already exists", code=code), status_code=409
                )
            await conn.execute(
                "INSERT INTO access_role_permissions (role_code, permission) SELECT $1, unnest($2::varchar[])",
                code,
                sorted(permissions),
            )
            await self.audit.record(
                action="access.role.created",
                target=f"role:{code}",
                details={"permissions": sorted(permissions)},
            )
        return await self.get(code)

    async def set_permissions(self, code: str, permissions: Iterable[str], *, by: Identity | None) -> Role:
        """Make the role hold exactly ``permissions``; ``by`` must hold every one added or removed."""
        if code == SUPERADMIN:
            raise ClientException(_("the superadmin role always holds every permission"), status_code=409)
        role = await self.get(code)
        wanted = set(permissions)
        self._check_known(wanted)
        added, removed = wanted - role.permissions, role.permissions - wanted
        if by is not None:
            self.check_holds(by, role.permissions | wanted, f"edit the role {code!r}")
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM access_role_permissions WHERE role_code = $1", code)
            await conn.execute(
                "INSERT INTO access_role_permissions (role_code, permission) SELECT $1, unnest($2::varchar[])",
                code,
                sorted(wanted),
            )
            await conn.execute(
                "UPDATE access_roles SET customized = true, updated_at = now() WHERE code = $1", code
            )
            await self.audit.record(
                action="access.role.changed",
                target=f"role:{code}",
                details={"added": sorted(added), "removed": sorted(removed)},
            )
        return await self.get(code)

    def _check_known(self, permissions: set[str]) -> None:
        unknown = sorted(permissions - self.registry.codes())
        if unknown:
            # Name a few, briefly: the message travels back in a URL to the form that sent them.
            shown = ", ".join(plain_text(code, 64) for code in unknown[:5]) + (
                " …" if len(unknown) > 5 else ""
            )
            raise ClientException(_("unknown permission(s): %(codes)s", codes=shown), status_code=422)
