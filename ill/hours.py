"""Business hours: deadlines counted only while a member is open, in its own time zone.

A lender asked on Friday at 17:00 with 8 business hours to answer has until Monday
afternoon; one closed for the Spring Festival has until some days after it reopens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from federation.alliance import IllPolicy

# Searching further than this for an opening means the member is never open.
HORIZON_DAYS = 400


def _open_spans(
    policy: IllPolicy, start_local: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """Yield the member's opening periods (local, aware) from ``start_local`` on, in order."""
    tz = policy.tz
    day = start_local.date()
    for _ in range(HORIZON_DAYS):
        if not policy.is_closed_on(day):
            for span in policy.business_hours.on(day.weekday()):
                begin = dt.datetime.combine(day, span.start, tz)
                end = dt.datetime.combine(day, span.end, tz)
                if end > start_local:
                    yield max(begin, start_local), end
        day += dt.timedelta(days=1)


def business_deadline(policy: IllPolicy, start: dt.datetime, hours: float) -> dt.datetime | None:
    """Return the moment (UTC) ``hours`` business hours after ``start``; None if never open."""
    left = dt.timedelta(hours=hours)
    for begin, end in _open_spans(policy, start.astimezone(policy.tz)):
        if end - begin >= left:
            return (begin + left).astimezone(dt.UTC)
        left -= end - begin
    return None


def next_opening(policy: IllPolicy, at: dt.datetime) -> dt.datetime | None:
    """Return when the member is next open (``at`` itself if open now), UTC; None if never."""
    for begin, _end in _open_spans(policy, at.astimezone(policy.tz)):
        return begin.astimezone(dt.UTC)
    return None


def is_open(policy: IllPolicy, at: dt.datetime) -> bool:
    """Tell whether the member is open for ILL work at ``at``."""
    local = at.astimezone(policy.tz)
    return not policy.is_closed_on(local.date()) and policy.business_hours.is_open_at(local)


def closure_on(policy: IllPolicy, day: dt.date) -> str | None:
    """Return the reason of the closure covering ``day`` ("closed" if none given), or None."""
    for closure in policy.closures:
        if closure.start <= day <= closure.end:
            return closure.reason or "closed"
    return None
