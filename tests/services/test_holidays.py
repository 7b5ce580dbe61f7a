"""Public holidays and 调休: the working-day calendar and the claim notice that counts by it."""
from datetime import date, datetime, timezone

import pytest

from app.config import BaseConfig
from app.services.holidays import calendar_of, is_working_day


def test_holidays_national_day_and_its_weekend_working_day():
    built_in = calendar_of("")
    assert not built_in.is_working_day(date(2026, 10, 1))   # 国庆, a Thursday
    assert not built_in.is_working_day(date(2026, 10, 7))   # a Wednesday, bridged
    assert built_in.is_working_day(date(2026, 10, 10))      # the Saturday worked instead
    assert built_in.is_working_day(date(2026, 9, 20))       # the Sunday worked instead
    assert built_in.is_working_day(date(2026, 10, 8))
    assert not built_in.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_holidays_configuration_amends_the_built_in_calendar(app):
    assert is_working_day(date(2027, 2, 9))                  # a Tuesday: no 2027 bridge built in
    assert not is_working_day(date(2027, 2, 20))             # a Saturday
    app.config["PUBLIC_HOLIDAYS"] = "2027-02-09..2027-02-11, +2027-02-20, +2026-10-07"
    assert not is_working_day(date(2027, 2, 9)) and not is_working_day(date(2027, 2, 11))
    assert is_working_day(date(2027, 2, 20))
    assert is_working_day(date(2026, 10, 7))                 # a built-in holiday cancelled


def test_holidays_malformed_setting_refused_at_start_up(tmp_path):
    with pytest.raises(RuntimeError, match="2027-13-01"):
        BaseConfig.load(tmp_path, {"SKILLTRACE_PUBLIC_HOLIDAYS": "2027-13-01"})
    assert BaseConfig.load(tmp_path, {"SKILLTRACE_PUBLIC_HOLIDAYS": "+2027-02-20"})["PUBLIC_HOLIDAYS"] == "+2027-02-20"
