"""Access checks any plugin's tests can run over its own routes.

Route walk: every registered admin route (``/admin...`` and ``/api/v1/admin/...``) must
answer 403 to a signed-in customer and 401 (or a redirect to the sign-in page) to an
anonymous visitor, for every method, without anyone listing the routes by hand::

    await assert_admin_routes_guarded(app, customer=customer_client, anonymous=anonymous_client)

IDOR: user B must not read or change user A's objects. Name the path parameters that
point at user-owned objects and give A's ids; every route using only those parameters
is tried as B (and must answer 403 or 404), then, to show the check means something, as
A (and must not)::

    await assert_no_idor(app, owner=a_client, intruder=b_client,
                         ids={"session_id": a_session, "notification_id": a_note},
                         snapshot=lambda: read_a_state())

``snapshot`` is read before and after B's requests: it must not change.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar.routes import HTTPRoute

ADMIN_PREFIXES = ("/admin", "/api/v1/admin/")
_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
#: Values that make a path parameter of each type valid, so routing reaches the guards.
SAMPLE_VALUES = {
    "uuid": "00000000-0000-4000-8000-000000000000",
    "int": "1",
    "str": "x",
    "path": "x",
    "date": "2026-01-01",
    "datetime": "2026-01-01T00:00:00",
    "decimal": "1",
    "float": "1",
}
SKIPPED_METHODS = frozenset({"OPTIONS", "HEAD"})


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    #: The route as registered, e.g. ``/admin/users/{user_id:uuid}``.
    template: str


@dataclass
class Failures:
    lines: list[str] = field(default_factory=list)

    def add(self, case: RouteCase, who: str, status: int, wanted: str) -> None:
        self.lines.append(f"{case.method} {case.template} as {who}: got {status}, wanted {wanted}")

    def check(self, title: str) -> None:
        assert not self.lines, f"{title}:\n  " + "\n  ".join(self.lines)


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith(("/admin/", "/api/v1/admin/"))


def route_templates(app: Any) -> list[tuple[str, frozenset[str]]]:
    """``(path template, methods)`` of every HTTP route of a litestar app."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            found.append((route.path, frozenset(route.methods) - SKIPPED_METHODS))
    return found


def fill(template: str, values: Mapping[str, Any] | None = None) -> str | None:
    """The template with each parameter replaced; None when ``values`` lacks one it needs."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name, kind = match.group(1), match.group(2) or "str"
        if values is not None:
            if name not in values:
                missing = True
                return ""
            return str(values[name])
        return SAMPLE_VALUES.get(kind, "x")

    path = _PARAM.sub(value, template)
    return None if missing else path


def admin_cases(app: Any) -> list[RouteCase]:
    cases = []
    for template, methods in route_templates(app):
        if is_admin_path(template):
            path = fill(template)
            assert path is not None
            cases.extend(RouteCase(m, path, template) for m in sorted(methods))
    return cases


def _is_sign_in_redirect(response: Any) -> bool:
    return response.status_code in (302, 303, 307) and response.headers.get("location", "").startswith(
        "/login"
    )


async def assert_admin_routes_guarded(app: Any, *, customer: Any, anonymous: Any) -> list[RouteCase]:
    """Walk every admin route: 403 for ``customer``, 401 or a sign-in redirect for ``anonymous``."""
    cases = admin_cases(app)
    assert cases, "the app has no admin routes at all: is it the right app?"
    failures = Failures()
    for case in cases:
        as_customer = await customer.request(case.method, case.path, headers={"accept": "text/html"})
        if as_customer.status_code != 403:
            failures.add(case, "a customer", as_customer.status_code, "403")
        for accept in ("text/html", "application/json"):
            as_anonymous = await anonymous.request(case.method, case.path, headers={"accept": accept})
            if not (as_anonymous.status_code == 401 or _is_sign_in_redirect(as_anonymous)):
                failures.add(
                    case, f"anonymous ({accept})", as_anonymous.status_code, "401 or a redirect to /login"
                )
    failures.check("admin routes that are not guarded")
    return cases


@dataclass(frozen=True)
class OwnedRoute:
    """A request on user A's object; B must be refused, A must not."""

    method: str
    path: str
    template: str = ""
    json: Any = None
    form: Mapping[str, str] | None = None
    #: A's own request may also answer these (e.g. 409 when the object is already gone).
    owner_ok: tuple[int, ...] = (200, 201, 202, 204, 302, 303, 409)


def idor_cases(app: Any, ids: Mapping[str, Any], *, include_admin: bool = False) -> list[OwnedRoute]:
    """Every route whose path parameters are all in ``ids`` (and has at least one), all methods."""
    cases = []
    for template, methods in route_templates(app):
        names = {m.group(1) for m in _PARAM.finditer(template)}
        if not names or not names <= set(ids) or (is_admin_path(template) and not include_admin):
            continue
        path = fill(template, ids)
        assert path is not None
        cases.extend(OwnedRoute(m, path, template) for m in sorted(methods))
    return cases


async def assert_no_idor(
    app: Any,
    *,
    owner: Any,
    intruder: Any,
    ids: Mapping[str, Any] | None = None,
    routes: Iterable[OwnedRoute] = (),
    snapshot: Callable[[], Awaitable[Any]] | None = None,
    leak_markers: Sequence[str] = (),
    owner_writes: bool = False,
) -> list[OwnedRoute]:
    """B (``intruder``) gets 403/404 on every route of A's objects; nothing of A's changes or leaks.

    ``ids`` finds routes by their path parameters (see :func:`idor_cases`); ``routes``
    adds explicit requests (with bodies). ``leak_markers`` are strings of A's data that
    must not appear in any answer to B. Finally A's own reads must succeed, so a route
    that refuses everyone does not pass by accident (and A's writes too, with
    ``owner_writes=True``, when replaying them in order makes sense).
    """
    cases = [*idor_cases(app, ids or {}), *routes]
    assert cases, "no routes to check: give ids of path parameters or explicit routes"
    before = await snapshot() if snapshot else None
    failures: list[str] = []
    for case in cases:
        response = await _send(intruder, case)
        if response.status_code not in (403, 404):
            failures.append(
                f"{case.method} {case.template or case.path} as another user: {response.status_code}"
            )
        for marker in leak_markers:
            if marker and marker in response.text:
                failures.append(f"{case.method} {case.template or case.path} shows another user's {marker!r}")
    if snapshot is not None:
        after = await snapshot()
        if after != before:
            failures.append(f"another user's requests changed the owner's data: {before!r} -> {after!r}")
    for case in cases:
        if case.method not in ("GET", "HEAD") and not owner_writes:
            continue
        response = await _send(owner, case)
        if response.status_code not in case.owner_ok:
            failures.append(
                f"{case.method} {case.template or case.path} as its owner: {response.status_code} "
                "(the check proves nothing if the owner is refused too)"
            )
    assert not failures, "IDOR:\n  " + "\n  ".join(failures)
    return cases


async def _send(client: Any, case: OwnedRoute) -> Any:
    kwargs: dict[str, Any] = {"headers": {"accept": "application/json"}}
    if case.json is not None:
        kwargs["json"] = case.json
    elif case.form is not None:
        kwargs["data"] = dict(case.form)
    return await client.request(case.method, case.path, **kwargs)


def random_id() -> uuid.UUID:
    return uuid.uuid4()
