"""When a schedule fires: a cadence in words or a cron expression, in a time zone, and the slots it defines.

A cadence is one of::

    hourly [:MM]                  every hour at minute MM (default :00)
    daily [HH:MM]                 every day (default 08:00)
    weekdays [HH:MM]              Monday to Friday
    weekly DAY [HH:MM]            DAY = mon … sun
    monthly D [HH:MM]             day D = 1 … 28 of every month (29–31 do not exist in every month)
    cron M H DOM MON DOW          any five-field cron expression (also accepted without the word ``cron``)

A *slot* is one firing time, an aware UTC datetime. APScheduler's ``CronTrigger`` (a well-kept implementation of
cron, time zones and daylight-saving changes) computes them; the scheduler process uses the same trigger to wake
up, so the slot a report is filed under is exactly the time it was due.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME = "08:00"
# How far back the latest slot is looked for, widening until one is found (an hourly cron needs the first window,
# a monthly one the third); a slot older than the last window is never caught up.
_LOOKBACK_WINDOWS: tuple[timedelta, ...] = (timedelta(hours=3), timedelta(days=3), timedelta(days=63),
                                            timedelta(days=800))
_MAX_STEPS = 20_000

_TIME = r"(?:\s+(?P<h>\d{1,2}):(?P<m>\d{2}))?"
_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("hourly", re.compile(r"hourly(?:\s+:?(?P<m>\d{1,2}))?")),
    ("daily", re.compile(r"daily" + _TIME)),
    ("weekdays", re.compile(r"weekdays" + _TIME)),
    ("weekly", re.compile(r"weekly\s+(?P<day>[a-z]{3})[a-z]*" + _TIME)),
    ("monthly", re.compile(r"monthly\s+(?P<dom>\d{1,2})" + _TIME)),
)


class CadenceError(ValueError):
    """The cadence or time zone cannot be understood; the message says what is accepted."""


@dataclass(frozen=True)
class Cadence:
    """A parsed cadence: the user's ``text``, its five-field ``cron`` and the IANA ``timezone`` it is read in."""

    text: str
    cron: str
    timezone: str

    def trigger(self) -> CronTrigger:
        """The APScheduler trigger of this cadence."""
        return CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))

    def next_slot(self, after: datetime) -> datetime | None:
        """The first slot strictly after ``after`` (aware), as aware UTC."""
        fire = self.trigger().get_next_fire_time(None, after.astimezone(UTC) + timedelta(microseconds=1))
        return None if fire is None else fire.astimezone(UTC)

    def latest_slot(self, now: datetime, *, not_before: datetime) -> datetime | None:
        """The latest slot in ``[not_before, now]`` (aware datetimes), or None when there is none."""
        trigger = self.trigger()
        now = now.astimezone(UTC)
        floor = not_before.astimezone(UTC)
        for window in _LOOKBACK_WINDOWS:
            begin = max(floor, now - window)
            latest, fire = None, trigger.get_next_fire_time(None, begin)
            for _ in range(_MAX_STEPS):
                if fire is None or fire.astimezone(UTC) > now:
                    break
                latest = fire
                fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            if latest is not None:
                return latest.astimezone(UTC)
            if begin == floor:
                return None
        return None


def _clock(hours: str | None, minutes: str | None, text: str) -> tuple[int, int]:
    h, m = (int(hours), int(minutes)) if hours is not None else tuple(int(p) for p in DEFAULT_TIME.split(":"))
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise CadenceError(f"{text!r}: the time of day must be between 00:00 and 23:59")
    return h, m


def _zone(timezone: str) -> str:
    name = str(timezone).strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CadenceError(f"unknown time zone {timezone!r}; use an IANA name such as 'Europe/Zurich' or "
                           "'UTC'") from None
    return name


def parse_cadence(text: str, timezone: str = "UTC") -> Cadence:
    """Parse a cadence (see the module docstring) read in ``timezone``.

    Raises:
        CadenceError: the text is none of the accepted forms, a field is out of range, or the zone is unknown.
    """
    raw = " ".join(str(text).split())
    spec = raw.lower()
    zone = _zone(timezone)
    for kind, pattern in _FORMS:
        match = pattern.fullmatch(spec)
        if match is None:
            continue
        groups = match.groupdict()
        if kind == "hourly":
            minute = int(groups["m"] or 0)
            if not 0 <= minute <= 59:
                raise CadenceError(f"{raw!r}: the minute must be between 0 and 59")
            return Cadence(raw, f"{minute} * * * *", zone)
        hour, minute = _clock(groups.get("h"), groups.get("m"), raw)
        if kind == "daily":
            return Cadence(raw, f"{minute} {hour} * * *", zone)
        if kind == "weekdays":
            return Cadence(raw, f"{minute} {hour} * * mon-fri", zone)
        if kind == "weekly":
            day = groups["day"]
            if day not in DAYS:
                raise CadenceError(f"{raw!r}: the day must be one of {', '.join(DAYS)}")
            return Cadence(raw, f"{minute} {hour} * * {day}", zone)
        dom = int(groups["dom"])
        if not 1 <= dom <= 28:
            raise CadenceError(f"{raw!r}: the day of the month must be 1 to 28 (every month has it)")
        return Cadence(raw, f"{minute} {hour} {dom} * *", zone)
    cron = spec.removeprefix("cron ").strip()
    if len(cron.split()) != 5:
        raise CadenceError(
            f"{raw!r} is not a cadence: use 'hourly [:MM]', 'daily [HH:MM]', 'weekdays [HH:MM]', "
            "'weekly DAY [HH:MM]', 'monthly D [HH:MM]' or a five-field cron expression such as '0 8 * * mon-fri'"
        )
    try:
        CronTrigger.from_crontab(cron, timezone=ZoneInfo(zone))
    except ValueError as exc:
        raise CadenceError(f"{raw!r} is not a valid cron expression: {exc}") from None
    return Cadence(raw, cron, zone)
