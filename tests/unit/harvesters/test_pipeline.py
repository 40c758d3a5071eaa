"""The fetch-ahead and store-behind threads keep order and hand errors back."""

from __future__ import annotations

import threading

import pytest

from harvesters.pipeline import Behind, prefetch


def test_prefetch_keeps_order_and_runs_the_producer_in_another_thread():
    threads = set()

    def produce():
        for n in range(20):
            threads.add(threading.current_thread().name)
            yield n

    assert list(prefetch(produce())) == list(range(20))
    assert threads == {"oai-prefetch"}


def test_prefetch_raises_the_producers_error_after_the_items_before_it():
    def produce():
        yield 1
        yield 2
        raise ValueError("page 3 is broken")

    seen = []
    with pytest.raises(ValueError, match="page 3"):
        for item in prefetch(produce()):
            seen.append(item)
    assert seen == [1, 2]


def test_prefetch_stops_producing_when_the_consumer_stops():
    produced = []

    def produce():
        for n in range(1000):
            produced.append(n)
            yield n

    for item in prefetch(produce()):
        if item == 2:
            break
    assert len(produced) < 10


def test_behind_runs_calls_in_order_and_waits_for_them_at_the_end():
    done = []
    with Behind() as behind:
        for n in range(50):
            behind.submit(done.append, n)
    assert done == list(range(50))


def test_behind_hands_back_the_first_error_and_runs_nothing_after_it():
    done = []

    def store(n):
        if n == 3:
            raise RuntimeError("disk full")
        done.append(n)

    with pytest.raises(RuntimeError, match="disk full"), Behind() as behind:
        for n in range(10):
            behind.submit(store, n)
    assert done == [0, 1, 2]


def test_a_failed_commit_outranks_an_error_of_the_loop():
    def store(_n):
        raise RuntimeError("commit failed")

    with pytest.raises(RuntimeError, match="commit failed"), Behind() as behind:
        behind.submit(store, 1)
        raise KeyError("token expired meanwhile")
