"""Periods the report counts in, all UTC: days, Monday-to-Sunday weeks, calendar months."""

from __future__ import annotations

import calendar
import time

DAY = 86400


def floor(stamp: int, bucket: str) -> int:
    """The start of the UTC day, or of the Monday-to-Sunday week, holding `stamp`."""
    day = stamp - stamp % DAY
    return day - ((day // DAY + 3) % 7) * DAY if bucket == "week" else day  # 1970-01-01 was a Thursday


def bucket_starts(since: int, until: int, bucket: str) -> list[int]:
    step = 7 * DAY if bucket == "week" else DAY
    return list(range(floor(since, bucket), max(until, since) + 1, step))


def month_starts(since: int, until: int) -> list[int]:
    """The first moment of each calendar month from the one holding `since` to the one holding `until`."""
    year, month = time.gmtime(since)[:2]
    start, starts = calendar.timegm((year, month, 1, 0, 0, 0)), []
    while start <= until:
        starts.append(start)
        start = next_month(start)
    return starts


def next_month(start: int) -> int:
    year, month = time.gmtime(start)[:2]
    return calendar.timegm((year + (month == 12), month % 12 + 1, 1, 0, 0, 0))
