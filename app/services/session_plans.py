"""The sessions of a class-opening application (R7) as people type them: rows of date and times
(full-width IME input and ``2026/12/14`` accepted, NFKC-normalised), repeat rules expanded into
sessions ("Mon–Fri from D1 to D2, 09:00–12:00, skipping …"), the planned hours against the
programme's hours, and clash warnings (same place, same instructor, a roster trainee in another
class at the same time) for the applicant and the reviewer.

Everything here reads; the application is saved by `app.services.classes`, which refuses past
and overlapping sessions.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.clock import LOCAL_TZ
from app.models import Programme
from app.queries import training as queries
from app.services.classes import SessionInput
from app.services.holidays import is_working_day
from app.services.hours import rules_for

ONLINE_WORDS = {"在线", "线上", "online"}
KIND_WORDS = {"理论": "theory", "theory": "theory", "实操": "practice", "practice": "practice"}
MAX_REPEATED = 200          # sessions one repeat rule may produce
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_CLOCK = re.compile(r"^(\d{1,2})\s*[:.点]\s*(\d{2})\s*分?$")
_RANGE = re.compile(r"^(.+?)\s*(?:-|–|—|~|至|到)\s*(.+)$")


def normalise(text: str | None) -> str:
    """``text`` with full-width letters, digits and punctuation made ASCII (NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_day(text: str) -> date | None:
    """``2026-12-14``, ``2026/12/14``, ``２０２６年12月14日`` … as a date (None if not one)."""
    match = _DAY.match(normalise(text))
    try:
        return date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        return None


def parse_clock(text: str) -> time | None:
    """``09:00``, ``9:00``, ``09：00`` … as a time of day (None if not one)."""
    match = _CLOCK.match(normalise(text))
    try:
        return time(int(match.group(1)), int(match.group(2))) if match else None
    except ValueError:
        return None


def parse_times(start: str, end: str = "") -> tuple[time | None, time | None]:
    """Start and end; a range typed in the start field (``09：00－12：00``) is split."""
    start, end = normalise(start), normalise(end)
    if not end and (match := _RANGE.match(start)) and parse_clock(match.group(1)):
        start, end = match.groups()
    return parse_clock(start), parse_clock(end)


@dataclass
class SessionRow:
    """One row of the session editor as posted (text, any width)."""

    day: str
    start: str
    end: str
    kind: str
    place: str

    def is_blank(self) -> bool:
        return not any(normalise(v) for v in (self.day, self.start, self.end, self.place))


def _place(text: str) -> tuple[str, bool]:
    place = normalise(text)
    return ("", True) if place.lower() in ONLINE_WORDS else (place, False)


def session_from(day: date, start: time, end: time, kind: str, place: str) -> SessionInput:
    """A session on ``day`` (Beijing time); the place ``在线`` makes it online."""
    where, online = _place(place)
    return SessionInput(datetime.combine(day, start, LOCAL_TZ), datetime.combine(day, end, LOCAL_TZ),
                        KIND_WORDS.get(normalise(kind).lower(), normalise(kind)), where, online)


def sessions_from_rows(rows: list[SessionRow]) -> tuple[list[SessionInput], list[str]]:
    """The sessions of the editor's rows (blank rows ignored), and a message per bad row."""
    sessions, problems = [], []
    for n, row in enumerate((r for r in rows if not r.is_blank()), 1):
        day, (start, end) = parse_day(row.day), parse_times(row.start, row.end)
        if day is None:
            problems.append(_("Row %(n)s: the date is not a date (write 2026-12-14).", n=n))
        elif start is None or end is None:
            problems.append(_("Row %(n)s: give the start and end times (write 09:00 and 12:00).", n=n))
        else:
            sessions.append(session_from(day, start, end, row.kind, row.place))
    return sessions, problems


@dataclass
class RepeatRule:
    """Sessions on the chosen weekdays (0 = Monday) from ``first`` to ``last``, at the same times."""

    first: date
    last: date
    weekdays: set[int]
    start: time
    end: time
    kind: str
    place: str
    skip: set[date] = field(default_factory=set)
    working_days_only: bool = False


def parse_repeat(first: str, last: str, weekdays: list[str], times: str, kind: str, place: str,
                 skip: str, working_days_only: bool) -> tuple[RepeatRule | None, dict]:
    """A repeat rule from the form's fields, or the problems by field."""
    errors = {}
    day1, day2 = parse_day(first), parse_day(last)
    start, end = parse_times(times)
    if day1 is None or day2 is None:
        errors["repeat_dates"] = _("Give the first and last dates (write 2026-12-14).")
    elif day2 < day1:
        errors["repeat_dates"] = _("The last date is before the first.")
    elif (day2 - day1).days > 366:
        errors["repeat_dates"] = _("A repeat rule covers at most one year.")
    days = {int(d) for d in weekdays if d in {"0", "1", "2", "3", "4", "5", "6"}}
    if not days:
        errors["repeat_weekdays"] = _("Choose at least one weekday.")
    if start is None or end is None:
        errors["repeat_times"] = _("Give the times as 09:00-12:00.")
    skipped, bad = set(), []
    for token in (t for t in re.split(r"[\s,;、]+", normalise(skip)) if t):
        (skipped.add(parse_day(token)) if parse_day(token) else bad.append(token))
    if bad:
        errors["repeat_skip"] = _("Not dates: %(dates)s.", dates="、".join(bad[:5]))
    if errors:
        return None, errors
    return RepeatRule(day1, day2, days, start, end, kind, place, skipped, working_days_only), {}


def expand(rule: RepeatRule) -> list[SessionInput]:
    """The sessions a repeat rule makes, in date order (skipped dates, and non-working days
    when asked, left out; at most `MAX_REPEATED`)."""
    sessions, day = [], rule.first
    while day <= rule.last and len(sessions) < MAX_REPEATED:
        if (day.weekday() in rule.weekdays and day not in rule.skip
                and (not rule.working_days_only or is_working_day(day))):
            sessions.append(session_from(day, rule.start, rule.end, rule.kind, rule.place))
        day += timedelta(days=1)
    return sessions


@dataclass(frozen=True)
class PlannedHours:
    """Planned sessions in the programme's standard hours (学时), beside what it requires."""

    theory: float
    practice: float
    required_theory: int
    required_practice: int
    hour_length: int

    @property
    def total(self) -> float:
        return self.theory + self.practice

    @property
    def required(self) -> int:
        return self.required_theory + self.required_practice

    @property
    def short(self) -> bool:
        return self.total < self.required


def planned_hours(session: Session, programme: Programme, sessions) -> PlannedHours:
    """The sessions' length in the programme's 学时 (60 or 45 minutes, `hours.Rules`), by kind."""
    length = rules_for(session, programme.id).hour_length
    minutes = {"theory": 0, "practice": 0}
    for s in sessions:
        kind = getattr(s.kind, "value", s.kind)
        minutes[kind] = minutes.get(kind, 0) + int((s.ends_at - s.starts_at).total_seconds() // 60)
    return PlannedHours(round(minutes["theory"] / length, 1), round(minutes["practice"] / length, 1),
                        programme.theory_hours, programme.practice_hours, length)


def clash_warnings(session: Session, sessions, instructor_ids, trainee_ids, class_id=None) -> list[str]:
    """Sessions of other classes (not withdrawn or rejected) at the same time as ``sessions``:
    at the same place, taught by one of ``instructor_ids``, or attended by one of ``trainee_ids``.
    Warnings, not refusals: the applicant and the reviewer decide."""
    timed = [s for s in sessions if s.starts_at.tzinfo and s.ends_at > s.starts_at]
    if not timed:
        return []
    others = queries.list_sessions_between(session, min(s.starts_at for s in timed),
                                           max(s.ends_at for s in timed), exclude_class_id=class_id)
    instructors, trainees = set(instructor_ids), set(trainee_ids)
    warnings = []
    for mine in timed:
        when = f"{mine.starts_at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"
        for other in others:
            if not (other.starts_at < mine.ends_at and mine.starts_at < other.ends_at):
                continue
            klass = other.training_class
            if not mine.online and not other.online and other.place == mine.place:
                warnings.append(_("%(when)s: %(place)s is also used by class %(code)s.",
                                  when=when, place=mine.place, code=klass.code))
            if shared := [u.display_name for u in klass.instructors if u.id in instructors]:
                warnings.append(_("%(when)s: %(names)s also teaches class %(code)s.",
                                  when=when, names="、".join(shared), code=klass.code))
            if busy := [e.trainee.name for e in klass.enrolments if e.trainee_id in trainees]:
                warnings.append(_("%(when)s: %(names)s also attend class %(code)s.",
                                  when=when, names="、".join(busy[:5]), code=klass.code))
    return warnings
