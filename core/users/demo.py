"""Demo accounts: two superadmins (one approves what the other asks), support, a customer.

The passwords are in ``core/users/README.md``; they are for the demo deployment only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.access.context import acting_as
from core.users.service import Users

if TYPE_CHECKING:
    from core.platform import Platform

DEMO_USERS = (
    ("admin@example.com", "copper kettle demo 2026", "Demo superadmin", ("customer", "superadmin")),
    # A second superadmin: sensitive actions (roles, deletions) need someone else's approval.
    (
        "checker@example.com",
        "silver teapot demo 2026",
        "Demo superadmin (checker)",
        ("customer", "superadmin"),
    ),
    ("support@example.com", "paper lantern demo 2026", "Demo support", ("customer", "support")),
    ("anna@example.com", "golden spoon demo 2026", "Anna Demo", ("customer",)),
)


async def load(platform: Platform, progress) -> None:
    users = platform.service(Users)
    with acting_as("demo"):
        for login, password, name, roles in DEMO_USERS:
            if await users.find(login) is None:
                await users.create(login, password, display_name=name, locale="ru", roles=roles)
                progress(f"demo user {login}")
