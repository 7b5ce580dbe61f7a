"""A programme's counting rules, versioned by effective date (R4, R5).

Each version of a programme's `HourRule` holds the standard-hour length (学时, 45 or 60 minutes),
the rounding (to the minute or to one standard hour), the daily cap per enrolment, the tolerance
around a session window, the share of practical hours and the face roll-calls per hour of online
study, and applies from its ``effective_from`` (a Beijing date) until the next version's. The
rule in force on a credited day is the one with the latest ``effective_from`` not after it;
programmes without any version use the config defaults (``HOURS_*``,
``CHECK_IN_TOLERANCE_MINUTES``, ``STUDY_ROLL_CALLS_PER_HOUR``).

Versions are only added. A new one starts after the newest one and after the last day on which
any minute of the programme was credited, so no credited minute ever changes its rule. Setting a
version holds the programme's row lock (``FOR UPDATE``) while it checks; every credit reads its
rule under a share lock of the same row (``FOR SHARE``), so a credit and a new version of the
same programme never interleave (SQLite serialises all writers anyway).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clock import local_today
from app.errors.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from app.models import Enrolment, HourRule, HoursEntry, Programme, TrainingClass, User
from app.services._tx import transaction
from app.services.audit import append_audit
from app.services.policy import can_manage_catalogues

HOUR_LENGTHS = (45, 60)
MAX_ROLL_CALLS_PER_HOUR = 12  # a roll-call every 5 minutes at most


@dataclass(frozen=True)
class Rules:
    """The counting rules applied to one programme on one day, all in minutes; ``rule_id`` and
    ``version`` are None for the config defaults."""

    daily_cap: int
    unit: int
    tolerance: int
    hour_length: int
    practical_percent: int
    roll_calls_per_hour: int
    rule_id: object = None
    version: int | None = None
    effective_from: date | None = None

    def as_dict(self) -> dict:
        """The rules as recorded with each credit (JSON-ready)."""
        return {"daily_cap_minutes": self.daily_cap, "unit_minutes": self.unit,
                "tolerance_minutes": self.tolerance, "hour_length_minutes": self.hour_length,
                "practical_percent": self.practical_percent, "roll_calls_per_hour": self.roll_calls_per_hour,
                "rule_version": self.version,
                "effective_from": self.effective_from.isoformat() if self.effective_from else None}


@dataclass(frozen=True)
class RuleInput:
    """The fields of a new rule version, as the admin page and the CLI take them."""

    effective_from: date
    hour_length: int
    unit: int
    daily_cap: int
    tolerance: int
    practical_percent: int
    roll_calls_per_hour: int


def _defaults() -> Rules:
    cfg = current_app.config
    unit = int(cfg["HOURS_UNIT_MINUTES"])
    return Rules(int(cfg["HOURS_DAILY_CAP_MINUTES"]), unit, int(cfg["CHECK_IN_TOLERANCE_MINUTES"]),
                 45 if unit == 45 else 60, 0, int(cfg["STUDY_ROLL_CALLS_PER_HOUR"]))


def _rules(rule: HourRule) -> Rules:
    return Rules(rule.daily_cap_minutes, rule.unit_minutes, rule.tolerance_minutes, rule.hour_length_minutes,
                 rule.practical_percent, rule.roll_calls_per_hour, rule.id, rule.version, rule.effective_from)


def rules_for(session: Session, programme_id, day: date | None = None, share_lock: bool = False) -> Rules:
    """The rules in force for the programme on Beijing ``day`` (default today), or the config
    defaults. ``share_lock``: hold the programme's row in share mode (credits) until commit."""
    if share_lock:
        session.execute(select(Programme.id).where(Programme.id == programme_id).with_for_update(read=True))
    rule = session.scalar(select(HourRule).where(
        HourRule.programme_id == programme_id, HourRule.effective_from <= (day or local_today()))
        .order_by(HourRule.effective_from.desc()).limit(1))
    return _rules(rule) if rule is not None else _defaults()


def roll_calls_per_hour(session: Session, programme_id, day: date) -> int:
    """Face roll-calls per hour of online study for the programme on Beijing ``day``."""
    return rules_for(session, programme_id, day).roll_calls_per_hour


def history(session: Session, programme_id) -> list[HourRule]:
    """The programme's rule versions, newest first (read-only)."""
    return list(session.scalars(select(HourRule).where(HourRule.programme_id == programme_id)
                                .order_by(HourRule.version.desc())))


def last_credited_day(session: Session, programme_id) -> date | None:
    """The latest Beijing day on which a minute of the programme was credited or reversed."""
    return session.scalar(select(func.max(HoursEntry.local_day)).join(
        Enrolment, Enrolment.id == HoursEntry.enrolment_id).join(
        TrainingClass, TrainingClass.id == Enrolment.class_id).where(TrainingClass.programme_id == programme_id))


def _check(values: RuleInput) -> None:
    errors = {}
    if values.hour_length not in HOUR_LENGTHS:
        errors["hour_length"] = _("45 or 60 minutes.")
    if values.unit not in (1, values.hour_length):
        errors["unit"] = _("Round to the minute or to one standard hour.")
    if not 0 < values.daily_cap <= 1440:
        errors["daily_cap"] = _("1–1440 minutes.")
    if not 0 <= values.tolerance <= 120:
        errors["tolerance"] = _("0–120 minutes.")
    if not 0 <= values.practical_percent <= 100:
        errors["practical_percent"] = _("0–100 per cent.")
    if not 1 <= values.roll_calls_per_hour <= MAX_ROLL_CALLS_PER_HOUR:
        errors["roll_calls_per_hour"] = _("1–%(n)s an hour.", n=MAX_ROLL_CALLS_PER_HOUR)
    if errors:
        raise ValidationError("; ".join(errors.values()), errors=errors)


def _refuse_backdating(session: Session, programme_id, effective_from: date) -> None:
    newest = session.scalar(select(func.max(HourRule.effective_from)).where(HourRule.programme_id == programme_id))
    if newest is not None and effective_from <= newest:
        raise ConflictError(_("A new version must start after the newest one (in force from %(day)s).",
                              day=newest.isoformat()), code="not_after_newest")
    credited = last_credited_day(session, programme_id)
    if credited is not None and effective_from <= credited:
        raise ConflictError(_("Minutes of this programme were credited up to %(day)s under the rule then in force: "
                              "a new version can start on %(next)s at the earliest.",
                              day=credited.isoformat(), next=date.fromordinal(credited.toordinal() + 1).isoformat()),
                            code="backdated")


def set_hour_rule(actor: User, programme_id, values: RuleInput) -> HourRule:
    """Add a version of the programme's rules, in force from ``values.effective_from`` (audited).

    Raises:
        PermissionDeniedError: not an administrator. NotFoundError: no such programme.
        ValidationError: a field out of range (named in ``errors``). ConflictError: the version
            would not start after the newest one, or would reach back into a credited day.
    """
    if not can_manage_catalogues(actor):
        raise PermissionDeniedError(_("Only administrators set hour rules."))
    _check(values)
    with transaction() as session:
        if session.scalar(select(Programme.id).where(Programme.id == programme_id).with_for_update()) is None:
            raise NotFoundError(_("No such programme."))
        _refuse_backdating(session, programme_id, values.effective_from)
        version = (session.scalar(select(func.max(HourRule.version)).where(
            HourRule.programme_id == programme_id)) or 0) + 1
        rule = HourRule(programme_id=programme_id, version=version, effective_from=values.effective_from,
                        daily_cap_minutes=values.daily_cap, unit_minutes=values.unit,
                        tolerance_minutes=values.tolerance, hour_length_minutes=values.hour_length,
                        practical_percent=values.practical_percent,
                        roll_calls_per_hour=values.roll_calls_per_hour, set_by_id=actor.id)
        session.add(rule)
        session.flush()
        append_audit(session, actor, "hours.rule_set", rule, {
            "programme_id": str(programme_id), "version": version,
            **{k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(values).items()}})
    return rule
