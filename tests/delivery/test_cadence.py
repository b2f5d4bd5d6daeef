"""Cadences and slots: the times are derived by hand from the cadence, the zone and its daylight-saving rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from usecases.delivery import CadenceError, parse_cadence


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("text", "cron"), [
    ("daily", "0 8 * * *"),
    ("daily 09:30", "30 9 * * *"),
    ("Daily   7:05", "5 7 * * *"),
    ("weekdays 06:00", "0 6 * * mon-fri"),
    ("weekly mon 07:30", "30 7 * * mon"),
    ("weekly Friday 17:00", "0 17 * * fri"),
    ("monthly 1 06:00", "0 6 1 * *"),
    ("hourly", "0 * * * *"),
    ("hourly :15", "15 * * * *"),
    ("0 8 * * mon-fri", "0 8 * * mon-fri"),
    ("cron */10 * * * *", "*/10 * * * *"),
])
def test_cadences_in_words_become_cron(text: str, cron: str) -> None:
    assert parse_cadence(text).cron == cron


@pytest.mark.parametrize(("text", "zone", "message"), [
    ("sometimes", "UTC", "is not a cadence"),
    ("daily 25:00", "UTC", "between 00:00 and 23:59"),
    ("weekly xyz 08:00", "UTC", "the day must be one of"),
    ("monthly 31 08:00", "UTC", "1 to 28"),
    ("hourly :75", "UTC", "between 0 and 59"),
    ("61 * * * *", "UTC", "not a valid cron expression"),
    ("daily", "Mars/Olympus", "unknown time zone"),
])
def test_bad_cadences_say_what_is_accepted(text: str, zone: str, message: str) -> None:
    with pytest.raises(CadenceError, match=message):
        parse_cadence(text, zone)


def test_daily_slots_follow_the_zone_through_both_daylight_saving_changes() -> None:
    # 09:00 in Zurich is 08:00 UTC in winter (CET, +1) and 07:00 UTC in summer (CEST, +2); Europe changed on
    # 2026-03-29 (spring) and changes back on 2026-10-25 (autumn).
    cadence = parse_cadence("daily 09:00", "Europe/Zurich")
    since = utc(2026, 1, 1)
    assert cadence.latest_slot(utc(2026, 3, 28, 12), not_before=since) == utc(2026, 3, 28, 8)
    assert cadence.latest_slot(utc(2026, 3, 29, 12), not_before=since) == utc(2026, 3, 29, 7)
    assert cadence.latest_slot(utc(2026, 10, 24, 12), not_before=since) == utc(2026, 10, 24, 7)
    assert cadence.latest_slot(utc(2026, 10, 25, 12), not_before=since) == utc(2026, 10, 25, 8)
    assert cadence.next_slot(utc(2026, 3, 28, 8)) == utc(2026, 3, 29, 7)


def test_latest_slot_is_the_last_one_not_after_now_and_not_before_the_start() -> None:
    weekly = parse_cadence("weekly mon 07:30", "UTC")
    # 2026-12-07 is a Monday
    assert weekly.latest_slot(utc(2026, 12, 7, 7, 29), not_before=utc(2026, 1, 1)) == utc(2026, 11, 30, 7, 30)
    assert weekly.latest_slot(utc(2026, 12, 7, 7, 30), not_before=utc(2026, 1, 1)) == utc(2026, 12, 7, 7, 30)
    assert weekly.latest_slot(utc(2026, 12, 7, 7, 29), not_before=utc(2026, 12, 1)) is None
    monthly = parse_cadence("monthly 15 06:00", "UTC")
    assert monthly.latest_slot(utc(2026, 12, 7), not_before=utc(2025, 1, 1)) == utc(2026, 11, 15, 6)
    minutely = parse_cadence("* * * * *", "UTC")
    assert minutely.latest_slot(utc(2026, 12, 7, 10, 0, 59), not_before=utc(2020, 1, 1)) == utc(2026, 12, 7, 10, 0)
