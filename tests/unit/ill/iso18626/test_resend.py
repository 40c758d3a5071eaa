"""When a missed ISO 18626 message is tried again, and what is owed after a failure."""

from __future__ import annotations

import datetime as dt

from ill.iso18626.resend import MAX_WAIT, Undelivered, due

T = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def failed(times: int) -> Undelivered:
    return Undelivered(7, "Request", None, "ldu", times, T)


def test_the_first_retry_waits_a_minute_then_the_wait_doubles():
    assert not due(failed(1), T + dt.timedelta(seconds=59))
    assert due(failed(1), T + dt.timedelta(minutes=1))
    assert not due(failed(3), T + dt.timedelta(minutes=3, seconds=59))
    assert due(failed(3), T + dt.timedelta(minutes=4))


def test_a_peer_down_for_days_is_still_tried_every_six_hours():
    assert not due(failed(40), T + MAX_WAIT - dt.timedelta(seconds=1))
    assert due(failed(40), T + MAX_WAIT)
