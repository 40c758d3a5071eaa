"""marshmallow fields for the alliance file: codes, URLs, time zones, schedules, hours, closures."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import ValidationError, fields

from federation.alliance.model import WEEKDAYS, ClosurePeriod, TimeSpan

CODE_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_INTERVAL_RE = re.compile(r"every\s+(\d+)\s*(m|min|minutes?|h|hours?|d|days?)", re.IGNORECASE)
_SPAN_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL = dt.timedelta(minutes=5)
MAX_CLOSURE_DAYS = 366


def describe(value: Any) -> str:
    """Return a short description of a YAML value for an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes/no/on/off as true/false)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    return repr(value) if not isinstance(value, dt.date) else value.isoformat()


class Text(fields.String):
    """A string that says to quote values YAML read as numbers, dates or booleans."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int | float | dt.date):
            raise ValidationError(f"expected text, got {describe(value)}; put the value in quotes")
        if not isinstance(value, str):
            raise ValidationError(f"expected text, got {describe(value)}")
        value = value.strip()
        if not value:
            raise ValidationError("must not be blank")
        return value


class Code(Text):
    """A short identifier: lower-case letters, digits and '-'."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValidationError(
                "write the code as text in quotes, e.g. code: '370602'; YAML reads a bare "
                f"number as a number (here it read {value})"
            )
        text = super()._deserialize(value, attr, data, **kwargs)
        if not CODE_RE.fullmatch(text):
            raise ValidationError(
                f"{text!r} is not a valid code; use 1-32 characters a-z, 0-9 and '-', "
                "starting with a letter or digit, e.g. 'zhifu-pl'"
            )
        return text


class HttpUrl(Text):
    """An absolute http or https URL; other schemes (file:, ftp:, javascript:) are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if re.search(r"\s", text):
            raise ValidationError(f"{text!r} contains spaces; remove them")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - parsing the port is part of the check
        except ValueError as exc:
            raise ValidationError(f"{text!r} is not a valid URL ({exc}); fix it") from None
        if parts.scheme.lower() not in ("http", "https"):
            shown = f"the scheme '{parts.scheme}:'" if parts.scheme else "no scheme"
            raise ValidationError(f"{text!r} has {shown}; use an http:// or https:// URL")
        if not parts.hostname:
            raise ValidationError(
                f"{text!r} names no host; write e.g. https://opac.example.org/oai"
            )
        if parts.username or parts.password:
            raise ValidationError("do not put a user name or password in the URL")
        if parts.fragment:
            raise ValidationError(f"{text!r} has a '#' fragment; remove it")
        return text


class TimeZone(Text):
    """An IANA time-zone name such as Asia/Shanghai."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"unknown time zone {text!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return text


def _check_interval(match: re.Match[str]) -> None:
    amount, unit = int(match.group(1)), match.group(2)[0].lower()
    if dt.timedelta(seconds=amount * _UNIT_SECONDS[unit]) < MIN_INTERVAL:
        raise ValidationError(
            f"{match.group(0)!r} is too often; harvest at most every 5 minutes (e.g. 'every 6h')"
        )


def _check_cron(text: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    parts = text.split()
    if len(parts) == 5 and re.search(r"\d", parts[4]):
        raise ValidationError(
            f"{text!r}: write the day of week with names (mon-sun, e.g. 'mon-fri'); "
            "numbers mean different days in cron and in the scheduler"
        )
    try:
        CronTrigger.from_crontab(text, timezone="UTC")
    except ValueError as exc:
        raise ValidationError(
            f"{text!r} is not a valid schedule ({exc}); use 5 crontab fields 'minute hour "
            "day month day-of-week' in quotes, e.g. '30 1 * * *', or an interval like 'every 6h'"
        ) from None


class Schedule(Text):
    """A harvest schedule: a 5-field crontab or 'every <n>m|h|d'."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = " ".join(super()._deserialize(value, attr, data, **kwargs).split())
        match = _INTERVAL_RE.fullmatch(text)
        if match:
            _check_interval(match)
        elif text.lower().startswith("every"):
            raise ValidationError(
                f"{text!r} is not a valid interval; write e.g. 'every 30m', 'every 6h', 'every 1d'"
            )
        else:
            _check_cron(text)
        return text


def schedule_trigger(schedule: str, time_zone: str):
    """Return the APScheduler trigger for a schedule string that passed validation."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    match = _INTERVAL_RE.fullmatch(schedule.strip())
    tz = ZoneInfo(time_zone)
    if match:
        unit = match.group(2)[0].lower()
        return IntervalTrigger(seconds=int(match.group(1)) * _UNIT_SECONDS[unit], timezone=tz)
    return CronTrigger.from_crontab(schedule, timezone=tz)


_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_NUMBERS = {name: i for names in (WEEKDAYS, _FULL_DAYS) for i, name in enumerate(names)}


def parse_days(spec: str) -> list[int]:
    """Turn 'mon-fri', 'sat' or 'sat,sun' into weekday numbers (0 = Monday)."""
    days: list[int] = []
    for part in str(spec).split(","):
        ends = [_DAY_NUMBERS.get(end.strip().lower(), -1) for end in part.split("-", 1)]
        if any(end < 0 for end in ends) or (len(ends) == 2 and ends[1] < ends[0]):
            raise ValidationError(
                f"{spec!r} is not a day or a forward range; use e.g. mon-fri, sat or sat,sun"
            )
        days += range(ends[0], ends[-1] + 1)
    return days


def _parse_span(text: str) -> TimeSpan:
    match = _SPAN_RE.fullmatch(text.strip())
    if not match:
        raise ValidationError(f"{text!r} is not an opening period; write e.g. '08:30-17:30'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValidationError(f"{text!r} is not a time of day; use 00:00 to 23:59")
    span = TimeSpan(dt.time(h1, m1), dt.time(h2, m2))
    if span.end <= span.start:
        raise ValidationError(f"{text!r} closes before it opens; write opening-closing")
    return span


def parse_spans(value: Any) -> tuple[TimeSpan, ...]:
    """Turn '08:30-17:30', a list of such periods, or 'closed' into sorted TimeSpans."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValidationError(
            f"got the number {value!r} (YAML reads 9:30 as a number); write hours in quotes, "
            "e.g. '09:00-12:00'"
        )
    if isinstance(value, str) and value.strip().lower() == "closed":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ValidationError(
            f"expected opening hours like '08:30-17:30', a list of them, or 'closed'; "
            f"got {describe(value)}"
        )
    spans = sorted((_parse_span(i) for i in items), key=lambda s: s.start)
    for before, after in zip(spans, spans[1:], strict=False):
        if after.start < before.end:
            raise ValidationError(f"{before} and {after} overlap; merge them")
    return tuple(spans)


class WeeklyHours(fields.Field):
    """Business hours: {'mon-fri': '08:30-17:30', 'sat': '09:00-12:00', 'sun': 'closed'}."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict):
            raise ValidationError(
                f"expected a mapping of days to hours, e.g. mon-fri: '08:30-17:30'; "
                f"got {describe(value)}"
            )
        week: dict[str, tuple[TimeSpan, ...]] = {}
        for spec, hours in value.items():
            try:
                days, spans = parse_days(spec), parse_spans(hours)
            except ValidationError as exc:
                raise ValidationError({spec: exc.messages}) from None
            for day in days:
                if WEEKDAYS[day] in week:
                    raise ValidationError({spec: [f"{WEEKDAYS[day]} is given twice; keep one"]})
                week[WEEKDAYS[day]] = spans
        return week


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValidationError(f"{what}: give a date without a time, e.g. 2026-02-17")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(
        f"{what}: {describe(value)} is not a date; write YYYY-MM-DD, e.g. 2026-02-17"
    )


def _closure(item: Any) -> ClosurePeriod:
    if not isinstance(item, dict):
        day = _date(item, "closure day")
        return ClosurePeriod(day, day)
    unknown = sorted(set(map(str, item)) - {"from", "to", "reason"})
    if unknown:
        raise ValidationError(f"unknown key {unknown[0]!r}; a closure period has from, to, reason")
    if "from" not in item or "to" not in item:
        raise ValidationError(
            "a closure period needs both from and to, e.g. {from: 2026-02-14, to: 2026-02-22}"
        )
    start, end = _date(item["from"], "from"), _date(item["to"], "to")
    if end < start:
        raise ValidationError(f"ends ({end}) before it starts ({start}); swap from and to")
    if (end - start).days >= MAX_CLOSURE_DAYS:
        raise ValidationError("is longer than a year; split it or check the years")
    reason = item.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValidationError(f"reason: expected text, got {describe(reason)}")
    return ClosurePeriod(start, end, reason)


class Closures(fields.Field):
    """Closure days: a list of dates (2026-02-17) or periods {from:, to:, reason:}."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple:
        if not isinstance(value, list):
            raise ValidationError(f"expected a list of dates or periods, got {describe(value)}")
        periods = []
        for index, item in enumerate(value):
            try:
                periods.append(_closure(item))
            except ValidationError as exc:
                raise ValidationError({index: exc.messages}) from None
        return tuple(sorted(periods, key=lambda p: (p.start, p.end)))
