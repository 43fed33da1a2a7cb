"""Whether a queue's hours of operation are open at a given moment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from connect_local.config import WEEKDAYS, HoursOfOperation


def _minutes(clock_time: str) -> int:
    hours, minutes = clock_time.split(":")
    return int(hours) * 60 + int(minutes)


def is_open(hours: HoursOfOperation, at: datetime) -> bool:
    """True when `at` (an aware datetime) falls in one of the open periods,
    read in the hours' own time zone; a period ending at or before its start
    runs past midnight into the next day."""
    local = at.astimezone(ZoneInfo(hours.time_zone))
    day = WEEKDAYS[local.weekday()]
    previous_day = WEEKDAYS[(local.weekday() - 1) % 7]
    minute = local.hour * 60 + local.minute
    for period in hours.schedule:
        start, end = _minutes(period.start), _minutes(period.end)
        if start < end:
            if period.day == day and start <= minute < end:
                return True
        elif (period.day == day and minute >= start) or (period.day == previous_day and minute < end):
            return True
    return False
