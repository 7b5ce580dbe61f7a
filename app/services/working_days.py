"""Working-day arithmetic in one place (Beijing calendar dates): Monday to Friday are working
days; ``HOLIDAYS`` (empty today) is where public holidays go, so that every deadline counted in
working days (the subsidy notice period, the make-up study window) follows them at once."""
from __future__ import annotations

from datetime import date, timedelta

#: Public holidays that are not working days although they fall on a weekday.
HOLIDAYS: frozenset[date] = frozenset()


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a listed holiday."""
    return day.weekday() < 5 and day not in HOLIDAYS


def working_days_after(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
    day = start
    while days > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            days -= 1
    return day
