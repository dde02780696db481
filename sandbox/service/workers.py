"""A pool of ready threads, so that accepting a connection or starting a relay
does not pay for creating a thread on the connect path."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any


class Workers:
    """Runs each submitted call on an idle thread; keeps `spare` threads idle.

    Relays block for the life of a connection, so the pool grows instead of
    queueing: a call never waits behind a long-lived one."""

    def __init__(self, spare: int = 8) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...]]] = \
            queue.SimpleQueue()
        self._spare = spare
        self._idle = 0
        self._lock = threading.Lock()
        self._grow(spare)

    def _grow(self, n: int) -> None:
        with self._lock:
            self._idle += n
        for _ in range(n):
            threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            fn, args = self._jobs.get()
            # A failed job must not take its thread with it.
            with contextlib.suppress(Exception):
                fn(*args)
            with self._lock:
                self._idle += 1

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        with self._lock:
            self._idle -= 1
            short = self._spare - self._idle
        self._jobs.put((fn, args))
        if short > self._spare // 2:
            self._grow(short)
