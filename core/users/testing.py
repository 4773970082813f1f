"""Helpers for tests that need real accounts and real sign-in (any plugin's tests may use them).

``client_as`` (core.testing) is the quick way to act as someone; these go through the
users plugin for real: an account in the database, a session cookie, a CSRF token::

    user = await make_user(platform, "ann@example.com")
    await sign_in(client, "ann@example.com")          # the client now carries the cookie
    await client.post("/api/v1/...", json={...})       # and sends X-CSRF-Token itself

``FAST_HASHING`` makes argon2 cheap: pass it as ``make_platform(settings=FAST_HASHING)``.
"""

from __future__ import annotations

import itertools
from typing import Any

from core.users.service import UserRecord, Users

PASSWORD = "correct horse battery staple"
FAST_HASHING = {"core.users": {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}}
_numbers = itertools.count(1)


def new_login(prefix: str = "user") -> str:
    return f"{prefix}{next(_numbers)}@example.com"


async def make_user(
    platform: Any,
    login: str | None = None,
    *,
    password: str = PASSWORD,
    roles: tuple[str, ...] = ("customer",),
    display_name: str = "",
    status: str = "active",
    locale: str | None = "en",
) -> UserRecord:
    """An active account (no code sent), with ``roles``."""
    return await platform.service(Users).create(
        login or new_login(), password, display_name=display_name, locale=locale, status=status, roles=roles
    )


async def sign_in(client: Any, login: str, password: str = PASSWORD) -> str:
    """Sign ``client`` in through the API; it keeps the cookie and sends the CSRF token from now on."""
    response = await client.post("/api/v1/auth/login", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    token = response.json()["csrf_token"]
    client.headers["x-csrf-token"] = token
    return token


async def latest_code(platform: Any, address: str) -> str:
    """The code in the newest message the development outbox kept for ``address``."""
    entry = await platform.registry("notification_channels").get("outbox").latest(address)
    assert entry is not None and entry.code, f"no code was sent to {address}"
    return entry.code
