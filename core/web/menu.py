"""Menu entries that plugins contribute to the site and the admin area."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MenuItem:
    #: English label; it is translated when shown.
    label: str
    path: str
    #: The permission needed to see the entry (None: everyone; "login": any signed-in user).
    permission: str | None = None
    #: Shown under the entry on the home page.
    description: str = ""
    order: int = 100
