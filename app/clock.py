"""One clock for the province: every "today" and every shown time is Beijing's (Asia/Shanghai).

Times are stored in UTC (`app.models.base.utcnow`); a calendar date a person would call "today"
comes from `local_today`, never from the host's `date.today()`, so a UTC host between 00:00 and
08:00 Beijing time still dates assessments and certificates correctly.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_now(now: datetime | None = None) -> datetime:
    """``now`` (default: the current instant) as an aware Beijing time."""
    instant = now or datetime.now(timezone.utc)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    return instant.astimezone(LOCAL_TZ)


def local_today(now: datetime | None = None) -> date:
    """The Beijing calendar date at ``now`` (default: the current instant)."""
    return local_now(now).date()


def local_stamp(at: datetime | None) -> str:
    """``at`` as Beijing wall-clock time, ``YYYY-MM-DD HH:MM:SS`` ("—" when None), for documents
    and record details that people read."""
    return local_now(at).strftime("%Y-%m-%d %H:%M:%S") if at is not None else "—"
