"""Long lists share their pages with a worker process: the store must not tell the difference."""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import signal
from datetime import timedelta

import pytest
from sqlalchemy import select

from federation.demo import MemberProfile, build_corpus
from federation.models import Record
from harvesters import offload
from harvesters.runs import get_run
from harvesters.store import decompress
from tests.unit.harvesters.test_services import (
    MARC21,
    T0,
    broken_inside,
    harvest,
    marc,
    member,
    rec,
    servers,  # noqa: F401 - fixture
    settings,  # noqa: F401 - fixture
    start,
    store,  # noqa: F401 - fixture
)
from web.oai.provider import MemoryRepository

OTHER = "ldu"  # a second demo member: the same records harvested without the worker


def catalogue() -> list:
    """Demo MARC 21 records (holdings, CJK, 880s), a record without a title, deletions."""
    corpus = build_corpus([MemberProfile("b", "university", "marc21", 1.0)], seed=3, total=140)
    payloads = [r.metadata("marc21") for r in corpus.records["b"] if not r.deleted]
    records = [rec(n, T0 + timedelta(minutes=n), payload=p) for n, p in enumerate(payloads)]
    untitled = marc(9001).replace(b'<subfield code="a">Title 9001</subfield>', b"")
    records.append(rec(9001, T0, payload=untitled))
    records += [rec(9100 + n, T0, deleted=True) for n in range(3)]
    return records


def rows(db, code: str) -> dict:
    with db.engine.connect() as conn:
        found = conn.execute(
            select(
                Record.oai_identifier,
                Record.datestamp,
                Record.status,
                Record.reject_reason,
                Record.normalised,
                Record.raw,
            ).where(Record.member_code == code)
        )
        return {
            i: (d, s, reason, without_member(norm), decompress(raw) if raw else None)
            for i, d, s, reason, norm, raw in found
        }


def without_member(normalised: dict | None) -> dict | None:
    """Leave out the member code (the two harvests store the records under two members)."""
    if normalised is None:
        return None
    holdings = [{**h, "member": None} for h in normalised.get("holdings", ())]
    return {**normalised, "member": None, "holdings": holdings}


@pytest.fixture
def forced(monkeypatch):
    """Send every page to the worker process, however short the list."""
    monkeypatch.setattr(offload, "MIN_RECORDS", 0)
    monkeypatch.setattr(offload, "MIN_PAGE_ITEMS", 1)


@pytest.fixture
def endpoint(servers):  # noqa: F811 - the fixture imported above
    return start(servers, MemoryRepository("Test", "", catalogue(), [MARC21]), page_size=12)


def test_pages_normalised_by_the_worker_are_stored_exactly_as_here(
    store,  # noqa: F811 - the fixture imported above
    settings,  # noqa: F811
    endpoint,
    forced,
    monkeypatch,
    caplog,
):
    with caplog.at_level(logging.INFO, logger="harvesters.offload"):
        summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok and summary.new > 100 and summary.rejected == 1 and summary.deleted == 3
    assert "pages normalised by the worker process" in caplog.text
    monkeypatch.setattr(offload, "MIN_RECORDS", 10**9)
    here = harvest(store, settings, member(endpoint.url, code=OTHER))
    assert (here.new, here.rejected, here.deleted) == (summary.new, 1, 3)
    by_worker, by_us = rows(store, "ytu"), rows(store, OTHER)
    assert len(by_worker) == len(catalogue())
    assert by_worker == by_us
    untitled = by_worker["oai:test.example:9001"]
    assert untitled[1] == "rejected" and "245" in untitled[2]


def test_a_worker_killed_mid_run_costs_nothing(store, settings, endpoint, forced, caplog):  # noqa: F811
    killed = []

    def kill_worker(_code: str, done: int, _expected) -> None:
        if done >= 24 and not killed:
            for process in multiprocessing.active_children():
                if process.name == "harvest-normaliser":
                    os.kill(process.pid, signal.SIGKILL)
                    killed.append(process.pid)

    with caplog.at_level(logging.WARNING, logger="harvesters.offload"):
        summary = harvest(store, settings, member(endpoint.url), progress=kill_worker)
    assert summary.ok and killed
    assert len(rows(store, "ytu")) == len(catalogue())
    assert "normalising in this process only" in caplog.text
    assert not [p for p in multiprocessing.active_children() if p.name == "harvest-normaliser"]


def test_a_page_the_worker_finds_broken_is_asked_for_again_here(
    store,  # noqa: F811 - the fixture imported above
    settings,  # noqa: F811
    endpoint,
    forced,
    caplog,
    monkeypatch,
):
    endpoint.app.rewrite, broken = broken_inside(times=1)
    taken_back = []
    parse_again = offload.Offload._parse_again

    def spy(self, page):
        taken_back.append(page.next_token)
        return parse_again(self, page)

    monkeypatch.setattr(offload.Offload, "_parse_again", spy)
    with caplog.at_level(logging.INFO, logger="harvesters"):
        summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok, summary.error
    assert summary.retries == 1 and len(broken) == 1
    assert len(taken_back) == 1  # the worker had it, and handed it back
    assert "asking for that page again" in caplog.text
    assert "normalising in this process only" not in caplog.text  # the worker carries on
    assert len(rows(store, "ytu")) == len(catalogue())
    assert get_run(store, summary.run_id).cursor == len(catalogue())


def test_every_page_of_a_long_list_goes_to_a_worker(store, settings, endpoint, forced, caplog):  # noqa: F811
    # A full worker makes the fetching thread wait: this process only fetches and stores.
    with caplog.at_level(logging.INFO, logger="harvesters.offload"):
        summary = harvest(store, settings, member(endpoint.url))
    assert summary.ok
    found = re.search(r"(\d+) of (\d+) pages normalised by the worker", caplog.text)
    assert found and found.group(1) == found.group(2) and int(found.group(2)) > 10
