"""Setting a programme's hour rule in tests: one version in force from long before any session."""
from datetime import date

from app.services import hour_rules

LONG_AGO = date(2020, 1, 1)


def set_rule(admin, programme_id, daily_cap: int = 480, unit: int = 1, tolerance: int = 15, *,
             hour_length: int | None = None, effective_from: date = LONG_AGO, practical_percent: int = 0,
             roll_calls_per_hour: int = 2):
    """Add a rule version (standard hour 45 minutes when rounding to 45, else 60)."""
    length = hour_length or (45 if unit == 45 else 60)
    return hour_rules.set_hour_rule(admin, programme_id, hour_rules.RuleInput(
        effective_from, length, unit, daily_cap, tolerance, practical_percent, roll_calls_per_hour))
