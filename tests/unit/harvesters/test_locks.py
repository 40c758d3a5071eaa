"""One harvest per member at a time, across processes; a SIGKILLed holder frees the lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from harvesters.errors import HarvestLocked
from harvesters.locks import member_lock
from tests.conftest import REPO_ROOT

HOLDER = """
import sys, time
from federation.db import Database
from harvesters.locks import member_lock
db = Database(sys.argv[1])
with member_lock(db, "ytu"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_harvest_of_the_same_member_is_refused_while_the_first_runs(db):
    with member_lock(db, "ytu"):
        with (
            pytest.raises(HarvestLocked, match="another harvest of ytu is running"),
            member_lock(db, "ytu"),
        ):
            pass
        with member_lock(db, "ldu"):  # other members are not held up
            pass
    with member_lock(db, "ytu"):  # released at the end of the first
        pass


def test_the_lock_holds_between_threads(db):
    outcome: list[str] = []
    with member_lock(db, "ytu"):

        def other() -> None:
            try:
                with member_lock(db, "ytu"):
                    outcome.append("got it")
            except HarvestLocked:
                outcome.append("refused")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert outcome == ["refused"]


def test_a_holder_killed_with_sigkill_does_not_block_the_next_harvest(db, settings_overrides):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, settings_overrides["DATABASE_URL"]],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(HarvestLocked), member_lock(db, "ytu"):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with member_lock(db, "ytu"):
        pass
