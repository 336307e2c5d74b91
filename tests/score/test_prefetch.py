"""The read-ahead of pool items: order, errors at the right place, early stops, bounded buffers."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hardneg.errors import InputError
from hardneg.score._prefetch import BatchBuffers, read_ahead


def _batches_of(item, buffers, count=3, fail_after=None):
    for k in range(count):
        if fail_after is not None and k == fail_after:
            raise InputError(f"item {item}: damaged after {k} batches")
        yield np.full(4, item * 10 + k), k


def test_items_and_batches_come_in_order():
    seen = [(item, [int(b[0]) for b, _ in batches]) for item, batches, _ in read_ahead(range(5), _batches_of)]
    assert seen == [(i, [i * 10, i * 10 + 1, i * 10 + 2]) for i in range(5)]


def test_a_read_error_is_raised_where_it_happened_and_the_next_item_follows():
    def open_item(item, buffers):
        return _batches_of(item, buffers, fail_after=1 if item == 1 else None)

    outcome = {}
    for item, batches, _ in read_ahead([0, 1, 2], open_item):
        got = []
        try:
            for batch, _ in batches:
                got.append(int(batch[0]))
        except InputError as error:
            outcome[item] = (got, str(error))
        else:
            outcome[item] = (got, None)
    assert outcome == {0: ([0, 1, 2], None), 1: ([10], "item 1: damaged after 1 batches"), 2: ([20, 21, 22], None)}


def test_a_consumer_that_stops_early_gets_the_next_item_whole():
    stream = read_ahead([0, 1, 2], lambda item, buffers: _batches_of(item, buffers, count=5))
    firsts = {}
    for item, batches, _ in stream:
        firsts[item] = [int(b[0]) for b, _ in batches] if item != 1 else [int(next(iter(batches))[0][0])]
    assert firsts == {0: [0, 1, 2, 3, 4], 1: [10], 2: [20, 21, 22, 23, 24]}


def test_a_bug_in_the_reader_reaches_the_caller():
    def open_item(item, buffers):
        if item == 1:
            raise ZeroDivisionError("a bug, not bad input")
        return _batches_of(item, buffers)

    with pytest.raises(ZeroDivisionError, match="a bug"):
        for _, batches, _ in read_ahead([0, 1, 2], open_item):
            list(batches)


def test_breaking_out_of_the_loop_stops_the_reader_thread():
    before = {t.name for t in threading.enumerate()}
    for item, batches, _ in read_ahead(range(1000), lambda item, buffers: _batches_of(item, buffers, count=50)):
        list(batches)
        if item == 2:
            break
    alive = [t for t in threading.enumerate() if t.name == "hardneg-pool-reader" and t.name not in before]
    for thread in alive:
        thread.join(timeout=5)
    assert not any(t.is_alive() for t in alive)


def test_the_read_ahead_is_bounded_by_bytes():
    produced = []

    def open_item(item, buffers):
        for k in range(100):
            produced.append(k)
            yield np.zeros(1000, dtype=np.uint8), k  # 1 kB per batch

    stream = read_ahead([0], open_item, max_bytes=10_000)
    item, batches, _ = next(stream)
    first = next(iter(batches))
    threading.Event().wait(0.3)  # let the reader run as far as it may
    # 1 taken + at most 10 queued + 1 blocked in put: never the whole item.
    assert len(produced) <= 12, len(produced)
    assert first[1] == 0
    stream.close()


def test_buffers_are_reused_and_bounded():
    buffers = BatchBuffers(2)
    a = buffers.take((3, 2), np.float32)
    b = buffers.take((3, 2), np.float32)
    assert a is not b
    taken = []
    waiter = threading.Thread(target=lambda: taken.append(buffers.take((3, 2), np.float32)))
    waiter.start()
    waiter.join(timeout=0.2)
    assert waiter.is_alive() and not taken  # both buffers lent: take waits
    buffers.give(a[:2])  # a view of a lent buffer gives the buffer back
    waiter.join(timeout=5)
    assert taken and taken[0] is a
    buffers.give(np.zeros((3, 2), np.float32))  # not lent here: ignored
    buffers.give(b)
    c = buffers.take((5, 2), np.uint8)  # another frame size: the free buffer of the old size is replaced
    assert c.shape == (5, 2) and c.dtype == np.uint8
    buffers.give(c)
    assert buffers.take((5, 2), np.uint8) is c
