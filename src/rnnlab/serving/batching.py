"""Micro-batching: concurrent requests wait a few milliseconds and share one forward pass.

One worker thread per model takes the first waiting request, gathers more until ``max_items`` items or
``max_wait_s``, runs the model once over all their items and hands each request its own slice. A batch that
fails is retried request by request, so one bad request answers with its own error and never fails the others.
(The pattern of TorchServe's and Triton's dynamic batchers, in a few lines.)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_STOP = object()


class MicroBatcher:
    """``submit(items) -> Future`` of ``fn(items)``; requests are merged into batches of at most ``max_items``."""

    def __init__(self, fn: Callable[[list[Any]], list[Any]], *, max_items: int = 64, max_wait_s: float = 0.004,
                 name: str = "batcher") -> None:  # fmt: skip
        self.fn, self.max_items, self.max_wait_s = fn, max_items, max_wait_s
        self._queue: queue.Queue = queue.Queue()
        self.batches = 0  # forward passes run, for the tests and /health
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, items: list[Any]) -> Future:
        future: Future = Future()
        self._queue.put((items, future))
        return future

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group, n = [first], len(first[0])
            deadline = time.monotonic() + self.max_wait_s
            while n < self.max_items:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is _STOP:
                    self._queue.put(_STOP)
                    break
                group.append(nxt)
                n += len(nxt[0])
            self._serve(group)

    def _serve(self, group: list[tuple[list[Any], Future]]) -> None:
        group = [(items, f) for items, f in group if f.set_running_or_notify_cancel()]
        if not group:
            return
        try:
            results = self.fn([x for items, _ in group for x in items])
            self.batches += 1
        except Exception:  # one request is at fault (or all): answer each on its own
            for items, future in group:
                try:
                    future.set_result(self.fn(items))
                    self.batches += 1
                except Exception as exc:
                    future.set_exception(exc)
            return
        start = 0
        for items, future in group:
            future.set_result(results[start : start + len(items)])
            start += len(items)
