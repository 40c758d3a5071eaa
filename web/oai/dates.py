"""UTC datestamps at the two OAI-PMH granularities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY = "YYYY-MM-DD"
GRANULARITIES = (DAY, SECONDS)

_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_SECONDS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class RequestDate:
    """A ``from``/``until`` argument: the instant it starts and its granularity."""

    start: datetime
    granularity: str

    def end(self) -> datetime:
        """Return the last microsecond the argument covers (``until`` is inclusive)."""
        step = timedelta(days=1) if self.granularity == DAY else timedelta(seconds=1)
        return self.start + step - _ONE_MICROSECOND


def parse_request_date(text: str) -> RequestDate:
    """Parse an OAI-PMH date argument; raise ValueError when it is not one."""
    if _SECONDS_RE.match(text):
        parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
        return RequestDate(parsed.replace(tzinfo=UTC), SECONDS)
    if _DAY_RE.match(text):
        day = date.fromisoformat(text)
        return RequestDate(datetime(day.year, day.month, day.day, tzinfo=UTC), DAY)
    raise ValueError(f"{text!r} is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ")


def to_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (a naive one is taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_datestamp(value: datetime, granularity: str = SECONDS) -> str:
    """Format ``value`` in UTC at ``granularity``."""
    value = to_utc(value)
    if granularity == DAY:
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
