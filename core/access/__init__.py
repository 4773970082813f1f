"""Who is asking, and may they: the identity of a request and the guards that check it.

The users plugin resolves a session cookie or an API token into an :class:`Identity`
and stores it in the request scope; routes declare what they need with
``guards=[requires("ledger.view")]`` or ``guards=[requires_login]``. An anonymous
visitor gets 401 (pages redirect to the login form); a signed-in user without the
permission gets 403.

The services of this package (see ``core/access/README.md``):

* :class:`~core.access.permissions.PermissionRegistry`: every declared permission;
* :class:`~core.access.roles.Roles`: roles as sets of permissions, granted to users;
* :class:`~core.access.approvals.Approvals`: maker-checker for sensitive actions;
* :class:`~core.access.audit.AuditLog`: the append-only audit log;
* :class:`~core.access.pii.PiiCipher`: AES-GCM field encryption and blind indexes;
* :class:`~core.access.confirmations.Confirmations`: one-time codes bound to what they confirm;
* :class:`~core.access.ratelimit.RateLimiter`: counters shared by every process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from core.web.i18n import gettext as _

SCOPE_KEY = "kopilka.identity"


@dataclass(frozen=True)
class Identity:
    user_id: UUID | None = None
    display_name: str = ""
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    locale: str | None = None
    #: How the request proved who it is: "session", "token", "test" or "" for anonymous.
    via: str = ""
    session_id: str | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> str:
        """How the audit log names this identity."""
        return f"user:{self.user_id}" if self.user_id else "anonymous"


ANONYMOUS = Identity()


def identity_of(connection: ASGIConnection[Any, Any, Any, Any] | Any) -> Identity:
    scope = connection.scope if hasattr(connection, "scope") else connection
    return scope.get(SCOPE_KEY) or ANONYMOUS


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    if not identity_of(connection).is_authenticated:
        raise NotAuthorizedException(_("sign in to continue"))


#: Marks guards that check who is asking: an anonymous request to a route with one of
#: them is answered 401 by the guard, before any CSRF check could answer 403.
requires_login.kopilka_auth = True  # type: ignore[attr-defined]


def requires(*permissions: str):
    """A guard that lets through only users holding every one of ``permissions``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        identity = identity_of(connection)
        if not identity.is_authenticated:
            raise NotAuthorizedException(_("sign in to continue"))
        missing = [p for p in permissions if not identity.can(p)]
        if missing:
            raise PermissionDeniedException(
                _("this needs the permission %(permission)s", permission=", ".join(missing))
            )

    guard.__name__ = f"requires({', '.join(permissions)})"
    guard.permissions = permissions  # type: ignore[attr-defined]
    guard.kopilka_auth = True  # type: ignore[attr-defined]
    return guard


def is_auth_guard(guard: Any) -> bool:
    """True for :func:`requires` and :func:`requires_login` (litestar may wrap them in ``.func``)."""
    return bool(
        getattr(guard, "kopilka_auth", False) or getattr(getattr(guard, "func", None), "kopilka_auth", False)
    )


__all__ = [
    "ANONYMOUS",
    "SCOPE_KEY",
    "Identity",
    "identity_of",
    "is_auth_guard",
    "requires",
    "requires_login",
]
