"""Dump a PostgreSQL database as SQL text with pg_dump (for privacy tests)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy.engine import make_url


def pg_dump(url: str) -> str:
    """Return the SQL text dump of the database at ``url`` (skips when pg_dump is missing)."""
    exe = shutil.which("pg_dump")
    if exe is None:
        pytest.skip("pg_dump is not installed on this machine")
    parsed = make_url(url)
    args = [exe, "--no-owner", "-h", parsed.host or "127.0.0.1", "-p", str(parsed.port or 5432),
            "-U", parsed.username or "postgres", parsed.database]  # fmt: skip
    return subprocess.run(args, capture_output=True, check=True, text=True, timeout=120).stdout
