"""Demo accounts: a superadmin, a second admin to approve what the first asks, a customer.

The passwords are in ``core/users/README.md``; they are for the demo deployment only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.access.context import acting_as
from core.users.service import Users

if TYPE_CHECKING:
    from core.platform import Platform

DEMO_USERS = (
    ("admin@example.com", "piggy-bank-root-7", "Demo superadmin", ("customer", "superadmin")),
    ("checker@example.com", "piggy-bank-second-8", "Demo admin (checker)", ("customer", "admin")),
    ("anna@example.com", "piggy-bank-saver-9", "Anna Demo", ("customer",)),
)


async def load(platform: Platform, progress) -> None:
    users = platform.service(Users)
    with acting_as("demo"):
        for login, password, name, roles in DEMO_USERS:
            if await users.find(login) is None:
                await users.create(login, password, display_name=name, locale="ru", roles=roles)
                progress(f"demo user {login}")
