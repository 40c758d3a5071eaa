"""Per-client request limits for the machine-facing endpoints (JSON API, SRU), in memory.

Each client's allowance refills at an even rate (the generic cell rate algorithm: one
"theoretical arrival time" per client), so up to the limit may come at once and no client gets
twice the limit by straddling the edge of a fixed window. Enough to stop one harvester or script
from starving readers. The counts live in the process, so with N gunicorn workers a client gets up
to N times the limit. Calls with an API token are counted per token; failed sign-ins are
throttled separately, in the database (federation.accounts.throttle).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, g, jsonify, render_template, request

from web.errors import error_body, wants_json

# (requests, seconds) per client; tests lower them through app.config["RATE_LIMITS"].
DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "api": (120, 60),
    "sru": (60, 60),
    "oai": (60, 60),
    "account": (30, 60),  # sign-in pages; failed passwords are also throttled per user name
    "search": (600, 60),  # reader search and record pages: generous, a campus shares one address
    "feedback": (20, 600),  # feedback messages sent (not the form): enough for a shared address
}
_MAX_CLIENTS = 50_000  # forget finished windows past this many tracked clients


@dataclass
class _Allowances:
    lock: threading.Lock = field(default_factory=threading.Lock)
    # (bucket, client) -> the time at which that client's allowance is whole again
    full_at: dict[tuple[str, str], float] = field(default_factory=dict)

    def hit(
        self, key: tuple[str, str], allowed: int, seconds: int, now: float
    ) -> tuple[int, float]:
        """Count one request; return (requests left after it, or -1 if refused; when to retry
        if refused, else when the allowance is whole again)."""
        interval = seconds / allowed
        with self.lock:
            if len(self.full_at) > _MAX_CLIENTS:
                self.full_at = {k: t for k, t in self.full_at.items() if t > now}
            full_at = max(self.full_at.get(key, now), now) + interval
            used = full_at - now  # seconds of allowance in use, this request included
            if used > seconds * (1 + 1e-9):
                return -1, full_at - seconds
            self.full_at[key] = full_at
        return int((seconds - used) / interval + 1e-9), full_at


def limits(app: Flask) -> dict[str, tuple[int, int]]:
    """Return the app's limits: the defaults, with any app.config["RATE_LIMITS"] over them."""
    return {**DEFAULT_LIMITS, **app.config.get("RATE_LIMITS", {})}


def limit_blueprint(bp: Blueprint, bucket: str) -> None:
    """Limit every request to ``bp`` per client, in the named bucket of limits."""
    bp.before_request(lambda: _check(bucket))
    bp.after_request(_headers)


def limit_posts(bp: Blueprint, bucket: str) -> None:
    """Limit the POST requests to ``bp`` per client (reading its pages stays unlimited)."""
    bp.before_request(lambda: _check(bucket) if request.method == "POST" else None)
    bp.after_request(_headers)


def _check(bucket: str) -> tuple[Response, int] | None:
    app = current_app._get_current_object()
    allowed, seconds = limits(app)[bucket]
    allowances = app.extensions.setdefault("federation.ratelimit", _Allowances())
    now = time.time()
    # A member system calling with its API token is counted by token, not by address.
    client = g.get("rate_key") or request.remote_addr or "-"
    left, when = allowances.hit((bucket, client), allowed, seconds, now)
    if left >= 0:
        g.rate_limit = (allowed, left, math.ceil(when))
        return None
    g.rate_limit = (allowed, 0, math.ceil(when))
    wait = max(1, math.ceil(when - now))
    body = error_body(
        "too_many_requests",
        f"more than {allowed} requests in {seconds} seconds from this client; "
        f"wait {wait} seconds and slow down",
        {"limit": allowed, "seconds": seconds, "retry_after": wait},
    )
    if wants_json():
        response = jsonify(body)
    else:
        page = render_template("error.html", status=429, message=body["error"]["message"])
        response = current_app.response_class(page, mimetype="text/html")
    response.headers["Retry-After"] = str(wait)
    return response, 429


def _headers(response: Response) -> Response:
    state = g.get("rate_limit")
    if state:
        allowed, remaining, reset = state
        response.headers["X-RateLimit-Limit"] = str(allowed)
        response.headers["X-RateLimit-Remaining"] = str(remaining)
        response.headers["X-RateLimit-Reset"] = str(reset)
    return response
