"""The production entry point: `gunicorn "web.wsgi:app"` gets the app, with start-up's objects
frozen out of garbage collection and rarer collections (no 100 ms pauses under load)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT

PROBE = """
import gc, json
import web.wsgi as w
client = w.app.test_client()
print(json.dumps({"status": client.get("/").status_code, "frozen": gc.get_freeze_count(),
                  "thresholds": gc.get_threshold(), "wanted": w.GC_THRESHOLDS}))
"""


def test_the_wsgi_module_serves_the_app_with_the_collector_settled(settings_overrides, db):
    # A child process: freezing the collector here would keep every later test's garbage.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT),
           **{f"FEDERATION_{k}": str(v) for k, v in settings_overrides.items()}}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, timeout=120, cwd=REPO_ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["status"] == 200
    assert seen["frozen"] > 10_000  # the app and its libraries
    assert tuple(seen["thresholds"]) == tuple(seen["wanted"])
