"""What the broker needs besides a database session: the alliance, the cipher, a clock, a mailer.

The web app, the scheduler and the CLI each build one :class:`IllContext` from settings at start
(``context_from_settings``) and install it; services use the installed one unless a caller
(a test, a benchmark) passes its own. Tests pass a controllable clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from federation.alliance import Alliance, IllPolicy
from federation.privacy import ReaderDataCipher, ensure_reader_key

Clock = Callable[[], dt.datetime]
Listener = Callable[[str, Any, dict], None]


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Return ``value`` as an aware UTC time (SQLite hands stored times back naive)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def system_clock() -> dt.datetime:
    """Return the current time in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Deadlines:
    """Response deadlines in business hours by service level; Normal uses the lender's own."""

    rush_hours: float = 4.0
    express_hours: float = 8.0
    recall_after_days: int = 14  # days overdue before the broker recalls the item
    max_renewals: int = 1

    def response_hours(self, level: str, policy: IllPolicy) -> float:
        """Return the business hours a lender has to answer a request of ``level``."""
        if level == "Rush":
            return min(self.rush_hours, policy.response_hours)
        if level == "Express":
            return min(self.express_hours, policy.response_hours)
        return float(policy.response_hours)


@dataclass
class IllContext:
    """The broker's collaborators; one per process (tests make their own)."""

    alliance: Alliance
    cipher: ReaderDataCipher
    digest_key: bytes
    clock: Clock = system_clock
    deadlines: Deadlines = field(default_factory=Deadlines)
    mailer: Any = None  # ill.notify.Mailer; None: in-app notices only
    retention_days: int = 90
    # Called after each committed-to-be change: (event, request, detail). The ISO 18626 peer
    # registers here to send messages to members that run their own system.
    listeners: list[Listener] = field(default_factory=list)
    rng: random.Random | None = None  # draws rota seeds; None: the system's randomness
    # Seconds the rota may use lender statistics read earlier (the ill:stats job recounts them
    # every five minutes anyway); 0 reads them for every rota.
    stats_ttl: float = 60.0
    _policies: dict[str, IllPolicy] = field(default_factory=dict, repr=False)

    def now(self) -> dt.datetime:
        """Return the context's current time (UTC, aware)."""
        return self.clock()

    def policy(self, member_code: str) -> IllPolicy | None:
        """Return a member's ILL policy from the alliance file (None for unknown members)."""
        if not self._policies:
            self._policies = {m.code: m.ill for m in self.alliance.members}
        return self._policies.get(member_code)

    def alliance_tz(self) -> ZoneInfo:
        """Return the alliance's time zone (days of "today's load" begin there)."""
        return ZoneInfo(self.alliance.time_zone)

    def digest(self, card: str | None) -> str | None:
        """Return a keyed hash of a card number: equal cards match, the number stays unknown."""
        if not card:
            return None
        return hmac.new(self.digest_key, card.strip().encode("utf-8"), hashlib.sha256).hexdigest()

    def emit(self, event: str, request: Any, detail: dict | None = None) -> None:
        """Tell every listener about an event of ``request``."""
        for listener in self.listeners:
            listener(event, request, detail or {})


_installed: IllContext | None = None


def install(ctx: IllContext) -> IllContext:
    """Make ``ctx`` the process's context (the app, scheduler or CLI calls this at start)."""
    global _installed
    _installed = ctx
    return ctx


def current(ctx: IllContext | None = None) -> IllContext:
    """Return ``ctx`` if given, else the installed context."""
    if ctx is not None:
        return ctx
    if _installed is None:
        raise RuntimeError("no ILL context installed; call ill.context.install() at start-up")
    return _installed


def context_from_settings(
    settings: dict[str, Any], alliance: Alliance, clock: Clock = system_clock
) -> IllContext:
    """Build the context from the platform's settings."""
    from ill.notify import mailer_from_settings

    deadlines = Deadlines(
        rush_hours=settings.get("ILL_RUSH_HOURS", 4.0),
        express_hours=settings.get("ILL_EXPRESS_HOURS", 8.0),
        recall_after_days=settings.get("ILL_RECALL_AFTER_DAYS", 14),
        max_renewals=settings.get("ILL_MAX_RENEWALS", 1),
    )
    ctx = make_context(alliance, ensure_reader_key(settings), clock)
    ctx.deadlines = deadlines
    ctx.mailer = mailer_from_settings(settings)
    ctx.retention_days = settings["READER_DATA_RETENTION_DAYS"]
    return ctx


def make_context(alliance: Alliance, reader_key: str, clock: Clock = system_clock) -> IllContext:
    """Build a context from the alliance and the reader-data key (tests and benchmarks)."""
    # The card digest gets its own key, derived so that one secret needs backing up.
    digest_key = hashlib.sha256(b"ill-patron-digest:" + reader_key.encode("ascii")).digest()
    return IllContext(
        alliance=alliance,
        cipher=ReaderDataCipher(reader_key),
        digest_key=digest_key,
        clock=clock,
    )
