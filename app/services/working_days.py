"""Working-day arithmetic in one place (Beijing calendar dates): every deadline counted in working
days (the subsidy notice period, the make-up study window) follows the public holidays and 调休
working days of `app.services.holidays` at once."""
from __future__ import annotations

from datetime import date, timedelta

from app.services.holidays import is_working_day


def working_days_after(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day
