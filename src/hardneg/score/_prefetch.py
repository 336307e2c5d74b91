"""Read the next items of a pool on a background thread while the scorer works on the current one.

Reading a log, decoding video and cutting windows release the GIL for most of
their time, and so do onnxruntime and numpy's kernels; running the reading one
step ahead of the scoring overlaps the two, the way a deep-learning data loader
does. Memory stays bounded: batches waiting for the scorer hold at most
``max_bytes`` (always at least one batch), and video frames are decoded into a
small set of reused batch buffers instead of a fresh array per batch.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from hardneg.errors import InputError

__all__ = ["READ_AHEAD_BYTES", "VIDEO_BUFFERS", "BatchBuffers", "read_ahead"]

#: Batches read ahead of the scorer hold at most this many bytes (at least one batch is always allowed).
READ_AHEAD_BYTES = 64 * 2**20
#: Video batch buffers in circulation: one being filled, one waiting, one being scored.
VIDEO_BUFFERS = 3


class BatchBuffers:
    """A few reusable batch arrays, lent by :meth:`take` and returned by :meth:`give`.

    Large batches (256 video frames are ~180 MB at 640x360) cost more to allocate,
    page by page, than to fill; reusing a few of them removes that cost. ``take``
    blocks while every buffer is lent, which also bounds how far the reader runs
    ahead. ``give`` accepts any array: one not lent here (or a view of one) is
    ignored, so a consumer can give back every batch it scored.

    Examples
    --------
    >>> buffers = BatchBuffers(2)
    >>> a = buffers.take((4, 2, 2, 3), np.uint8)
    >>> buffers.give(a[:3])  # a partial last batch is a view of its buffer
    >>> buffers.take((4, 2, 2, 3), np.uint8) is a
    True
    """

    def __init__(self, count: int):
        self._free: list[np.ndarray] = []
        self._lent: dict[int, np.ndarray] = {}
        self._count = max(1, int(count))
        self._changed = threading.Condition()
        self._closed = False

    def take(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        shape, dtype = tuple(shape), np.dtype(dtype)
        with self._changed:
            while True:
                if self._closed:
                    raise _Stopped
                for position, array in enumerate(self._free):
                    if array.shape == shape and array.dtype == dtype:
                        return self._lend(self._free.pop(position))
                if len(self._lent) + len(self._free) < self._count:
                    return self._lend(np.empty(shape, dtype=dtype))
                if self._free:  # only buffers of another frame size are free: replace one
                    self._free.pop(0)
                    return self._lend(np.empty(shape, dtype=dtype))
                self._changed.wait()

    def _lend(self, array: np.ndarray) -> np.ndarray:
        self._lent[id(array)] = array
        return array

    def give(self, array) -> None:
        with self._changed:
            for candidate in (array, getattr(array, "base", None)):
                if candidate is not None and self._lent.get(id(candidate)) is candidate:
                    self._free.append(self._lent.pop(id(candidate)))
                    self._changed.notify_all()
                    return

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()


class _Stopped(Exception):
    """The consumer went away; the reader thread ends quietly."""


class _ByteQueue:
    """A FIFO bounded by the bytes of the batches in it (an empty queue always takes one more)."""

    def __init__(self, max_bytes: int):
        self._items: collections.deque = collections.deque()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._changed = threading.Condition()
        self.closed = False

    def put(self, message: tuple, size: int) -> None:
        with self._changed:
            while self._items and self._bytes + size > self._max_bytes and not self.closed:
                self._changed.wait()
            if self.closed:
                raise _Stopped
            self._items.append((message, size))
            self._bytes += size
            self._changed.notify_all()

    def get(self) -> tuple:
        with self._changed:
            while not self._items:
                self._changed.wait()
            message, size = self._items.popleft()
            self._bytes -= size
            self._changed.notify_all()
            return message

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._items.clear()
            self._changed.notify_all()


def read_ahead(
    items: Sequence,
    open_item: Callable[[object, BatchBuffers], Iterator[tuple[np.ndarray, object]]],
    *,
    max_bytes: int = READ_AHEAD_BYTES,
    buffers: int = VIDEO_BUFFERS,
) -> Iterator[tuple[object, Iterator[tuple[np.ndarray, object]], BatchBuffers]]:
    """Yield ``(item, batches, buffers)`` in item order, the batches read on a background thread.

    ``open_item(item, buffers)`` returns the item's batch iterator (it may draw
    batch arrays from ``buffers``; the consumer gives each back with
    ``buffers.give`` once scored, or leaves that to this function when it
    stops early). An :class:`InputError` while reading an item is raised from
    that item's ``batches`` at the point where it happened; the next item
    follows as usual. Any other exception ends the run on the calling thread.

    Examples
    --------
    >>> def open_item(item, buffers):
    ...     return iter([(np.full(2, item), None)])
    >>> [(item, [b.tolist() for b, _ in batches]) for item, batches, _ in read_ahead([1, 2], open_item)]
    [(1, [[1, 1]]), (2, [[2, 2]])]
    """
    pool = BatchBuffers(buffers)
    queue = _ByteQueue(max_bytes)

    def produce() -> None:
        try:
            for index, item in enumerate(items):
                try:
                    for batch, span in open_item(item, pool):
                        queue.put(("batch", index, (batch, span)), int(getattr(batch, "nbytes", 0)))
                except InputError as error:
                    queue.put(("error", index, error), 0)
                    continue
                queue.put(("end", index, None), 0)
        except _Stopped:
            return
        except BaseException as error:  # a bug, not bad input: re-raised on the consumer's thread
            try:
                queue.put(("crash", -1, error), 0)
            except _Stopped:
                pass

    reader = threading.Thread(target=produce, name="hardneg-pool-reader", daemon=True)
    reader.start()
    try:
        for index, item in enumerate(items):
            state = {"finished": False}

            def batches(index=index, state=state) -> Iterator[tuple[np.ndarray, object]]:
                while not state["finished"]:
                    kind, at, payload = queue.get()
                    if kind == "crash":
                        raise payload
                    if at != index:  # cannot happen: the reader goes item by item
                        raise RuntimeError(f"read-ahead out of order: item {at} while consuming {index}")
                    if kind == "batch":
                        yield payload
                    else:
                        state["finished"] = True
                        if kind == "error":
                            raise payload

            stream = batches()
            yield item, stream, pool
            stream.close()
            # The consumer may stop early (a scorer error): skip the rest of this item's batches.
            while not state["finished"]:
                kind, at, payload = queue.get()
                if kind == "crash":
                    raise payload
                if kind == "batch":
                    pool.give(payload[0])
                else:
                    state["finished"] = True
    finally:
        queue.close()
        pool.close()
        reader.join(timeout=10)
