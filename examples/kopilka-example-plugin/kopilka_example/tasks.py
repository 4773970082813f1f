import random

from kopilka_example.tables import Tip

TIPS = [
    "Pay yourself first: move savings on payday.",
    "Round up every purchase and save the change.",
    "Wait a day before any purchase you did not plan.",
]


async def add_tip(platform) -> None:
    """Add one saving tip (scheduled)."""
    await Tip.insert(Tip(text=random.choice(TIPS))).run()
