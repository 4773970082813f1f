"""When creditors must be told of a meeting (127-FZ art. 13).

* By post: at least 14 days before the meeting.
* By another means that ensures receipt (e-mail, SMS, this platform): at least 5 working days before.
* With more than 500 creditors, publication in the Fedresurs register (EFRSB, art. 28) counts as notice;
  we apply the 14-day period to it as well. [K]

Working days are Monday to Friday less the deployment's ``holidays``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

POST_DAYS = 14
WORKING_DAYS = 5
EFRSB_MIN_CREDITORS = 501
METHODS = ("post", "electronic", "efrsb")


def is_working_day(day: dt.date, holidays: Iterable[dt.date] = ()) -> bool:
    return day.weekday() < 5 and day not in set(holidays)


def latest_notice_date(meeting_day: dt.date, method: str, holidays: Iterable[dt.date] = ()) -> dt.date:
    """The last day on which the notice may still be given for a meeting on ``meeting_day``."""
    if method in ("post", "efrsb"):
        return meeting_day - dt.timedelta(days=POST_DAYS)
    if method != "electronic":
        raise ValueError(f"no notice method {method!r}")
    off = set(holidays)
    day, counted = meeting_day, 0
    while counted < WORKING_DAYS:
        day -= dt.timedelta(days=1)
        if is_working_day(day, off):
            counted += 1
    return day
