"""Per-client request limits for the machine-facing endpoints (JSON API, SRU), in memory.

A fixed window per client address: simple, and enough to stop one harvester or script from
starving readers. The counts live in the process, so with N gunicorn workers a client gets up
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
}
_MAX_CLIENTS = 50_000  # forget finished windows past this many tracked clients


@dataclass
class _Windows:
    lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def hit(self, key: tuple[str, str], seconds: int, now: float) -> tuple[int, int]:
        """Count one request; return (requests in this window, window end)."""
        window = int(now // seconds)
        with self.lock:
            if len(self.counts) > _MAX_CLIENTS:
                self.counts = {k: v for k, v in self.counts.items() if v[0] == window}
            start, count = self.counts.get(key, (window, 0))
            count = count + 1 if start == window else 1
            self.counts[key] = (window, count)
        return count, (window + 1) * seconds


def limits(app: Flask) -> dict[str, tuple[int, int]]:
    """Return the app's limits: the defaults, with any app.config["RATE_LIMITS"] over them."""
    return {**DEFAULT_LIMITS, **app.config.get("RATE_LIMITS", {})}


def limit_blueprint(bp: Blueprint, bucket: str) -> None:
    """Limit every request to ``bp`` per client, in the named bucket of limits."""
    bp.before_request(lambda: _check(bucket))
    bp.after_request(_headers)


def _check(bucket: str) -> tuple[Response, int] | None:
    app = current_app._get_current_object()
    allowed, seconds = limits(app)[bucket]
    windows = app.extensions.setdefault("federation.ratelimit", _Windows())
    now = time.time()
    # A member system calling with its API token is counted by token, not by address.
    client = g.get("rate_key") or request.remote_addr or "-"
    count, reset = windows.hit((bucket, client), seconds, now)
    g.rate_limit = (allowed, max(0, allowed - count), reset)
    if count <= allowed:
        return None
    wait = max(1, math.ceil(reset - now))
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
