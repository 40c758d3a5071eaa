"""What the accounts layer costs: argon2 per sign-in, and per request the actor loader with a
session cookie or an API token against anonymous requests (the baseline, same process).

    /work/main/.venv/bin/python benchmarks/accounts.py [--requests 400] [--rounds 5]

Prints one JSON object. Times are medians over rounds; compare the ratios, not the absolutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The project root first: benchmarks/search.py must not shadow the search package.
sys.path[0] = str(Path(__file__).resolve().parents[1])


def _medians_us(calls: dict, n: int, rounds: int) -> dict[str, float]:
    """Time each call n times per round, the kinds taking turns so drift hits all alike."""
    runs: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():  # warm-up: templates, pools, caches
        for _ in range(20):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.perf_counter()
            for _ in range(n):
                call()
            runs[name].append((time.perf_counter() - started) / n * 1e6)
    return {f"{name}_us": statistics.median(times) for name, times in runs.items()}


def _argon2_ms(rounds: int) -> dict[str, float]:
    from federation.accounts.passwords import hash_password, verify_password

    stored = hash_password("benchmark password")
    hashes, verifies = [], []
    for _ in range(rounds * 4):
        t = time.perf_counter()
        hash_password("benchmark password")
        hashes.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        verify_password(stored, "benchmark password")
        verifies.append((time.perf_counter() - t) * 1000)
    return {
        "argon2_hash_ms": statistics.median(hashes),
        "argon2_verify_ms": statistics.median(verifies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from federation.accounts import create_token
    from federation.db import Database
    from tests.support.accounts import make_user, sign_in
    from web import create_app

    root = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    overrides = {
        "INSTANCE_PATH": str(root),
        "DATABASE_URL": f"sqlite:///{root / 'bench.sqlite3'}",
        "SECRET_KEY": "bench",
    }
    Database(overrides["DATABASE_URL"]).upgrade()
    app = create_app(overrides)
    app.config["RATE_LIMITS"] = {"api": (10**9, 60)}
    user = make_user(app, "ill_staff", "ytu")
    with app.extensions["federation.db"].session() as s:
        token = create_token(s, "ytu", "bench", "read").secret
    anonymous, session, bearer = app.test_client(), app.test_client(), app.test_client()
    sign_in(session, user.username)
    url = "/api/v1/members"
    headers = {"Authorization": f"Bearer {token}"}
    figures = {
        "requests_per_round": args.requests,
        "rounds": args.rounds,
        **_medians_us(
            {
                "anonymous": lambda: anonymous.get(url),
                "session": lambda: session.get(url),
                "token": lambda: bearer.get(url, headers=headers),
            },
            args.requests,
            args.rounds,
        ),
        **_argon2_ms(args.rounds),
    }
    figures["session_ratio"] = figures["session_us"] / figures["anonymous_us"]
    figures["token_ratio"] = figures["token_us"] / figures["anonymous_us"]
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
