"""Stopping fast: Ctrl-C or SIGTERM ends a run within about two seconds, results written.

pytest turns SIGINT into KeyboardInterrupt but dies on SIGTERM without a
word, so the controller (or the only process) takes SIGTERM the same way as
SIGINT. xdist then asks each worker to exit and waits up to 10 s for a
worker still inside a case; an interrupted run waits `WORKER_GRACE` instead
and lets execnet kill the rest. Whatever the workers had not reported is
lost, and conformance.lost makes it an ERROR; the orphaned worlds remove
their workdirs themselves (fakenet/workdirs.py).
"""

from __future__ import annotations

import contextlib
import signal
from types import FrameType
from typing import Any

import pytest

WORKER_GRACE = 1.0  # seconds an interrupted run waits for its xdist workers


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Once: a second signal must not interrupt the writing of the results.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def _noted(signum: int, frame: FrameType | None) -> None:
    """While the results are being written, a signal waits its turn."""


class FastStop:
    """Takes SIGTERM as SIGINT for the run; shortens xdist's wait for busy workers
    when the run was interrupted; keeps a late Ctrl-C or SIGTERM from cutting the
    writing of the results short. The process's own handlers come back at the end."""

    def __init__(self) -> None:
        self._saved: dict[int, Any] = {}
        self._set(signal.SIGTERM, _terminate)

    def _set(self, signum: int, handler: Any) -> None:
        with contextlib.suppress(ValueError):   # not the main thread (pytest run in-process)
            previous = signal.signal(signum, handler)
            self._saved.setdefault(signum, previous)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._set(signum, _noted)
        if exitstatus != pytest.ExitCode.INTERRUPTED:
            return
        dsession = session.config.pluginmanager.getplugin("dsession")
        nodes = getattr(dsession, "nodemanager", None)
        if nodes is not None:
            nodes.EXIT_TIMEOUT = WORKER_GRACE

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        for signum, handler in self._saved.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)
        self._saved.clear()
