"""Public holidays and adjusted working days (调休) of mainland China: the one source of "is this a
working day" for periods counted in working days (the public notice of a claim, make-up study).

The built-in calendar holds the State Council's arrangement for 2026 (国务院办公厅关于2026年部分
节假日安排的通知: the days off and the weekend days worked instead) and the statutory days of 2027 (元旦, 春节 除夕–初三,
清明, 劳动节 5月1–2日, 端午, 中秋, 国庆 10月1–3日); the 2027 arrangement (its bridging days off and
weekend working days) is published each November and goes into ``SKILLTRACE_PUBLIC_HOLIDAYS``
until it is added here.

``SKILLTRACE_PUBLIC_HOLIDAYS`` (config ``PUBLIC_HOLIDAYS``) amends the built-in calendar: a
comma-separated list of days off (``2027-02-08``) or ranges (``2027-02-05..2027-02-13``), and of
working days marked with a plus (``+2027-02-20``, a weekend day worked, or a built-in holiday
cancelled).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flask import current_app


def _days(first: str, last: str | None = None) -> list[date]:
    start = date.fromisoformat(first)
    end = date.fromisoformat(last) if last else start
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# 2026: 国务院办公厅关于2026年部分节假日安排的通知
_OFF_2026 = [*_days("2026-01-01", "2026-01-03"), *_days("2026-02-15", "2026-02-23"),
             *_days("2026-04-04", "2026-04-06"), *_days("2026-05-01", "2026-05-05"),
             *_days("2026-06-19", "2026-06-21"), *_days("2026-09-25", "2026-09-27"),
             *_days("2026-10-01", "2026-10-07")]
_ON_2026 = _days("2026-01-04") + _days("2026-02-14") + _days("2026-02-28") + _days("2026-05-09") \
    + _days("2026-09-20") + _days("2026-10-10")
# 2027: the statutory days only (the bridging arrangement is added by configuration)
_OFF_2027 = [*_days("2027-01-01"), *_days("2027-02-05", "2027-02-08"), *_days("2027-04-05"),
             *_days("2027-05-01", "2027-05-02"), *_days("2027-06-09"), *_days("2027-09-15"),
             *_days("2027-10-01", "2027-10-03")]


@dataclass(frozen=True)
class Calendar:
    """Days off on weekdays and weekend days worked, beyond the Monday-to-Friday week."""

    off: frozenset[date]
    on: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        """Monday to Friday unless a holiday, or a weekend day worked instead (调休)."""
        if day in self.on:
            return True
        return day.weekday() < 5 and day not in self.off


@lru_cache(maxsize=8)
def calendar_of(spec: str = "") -> Calendar:
    """The built-in calendar amended by ``spec`` (the ``PUBLIC_HOLIDAYS`` setting, see the module).

    Raises:
        ValueError: a malformed entry (the message names it).
    """
    off, on = set(_OFF_2026 + _OFF_2027), set(_ON_2026)
    for entry in (e.strip() for e in spec.split(",") if e.strip()):
        working = entry.startswith("+")
        first, _sep, last = entry.lstrip("+").partition("..")
        try:
            days = _days(first.strip(), last.strip() or None)
        except ValueError:
            raise ValueError(f"SKILLTRACE_PUBLIC_HOLIDAYS: {entry!r} is not a date or a date range "
                             "(YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD, + for a working day)") from None
        for day in days:
            (on if working else off).add(day)
            (off if working else on).discard(day)
    return Calendar(frozenset(off), frozenset(on))


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day under the configured calendar (app context needed)."""
    return calendar_of(current_app.config["PUBLIC_HOLIDAYS"]).is_working_day(day)

