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

import pytest

WORKER_GRACE = 1.0  # seconds an interrupted run waits for its xdist workers


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Once: a second signal must not interrupt the writing of the results.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def take_sigterm_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt (main thread only; elsewhere nothing changes)."""
    with contextlib.suppress(ValueError):   # not the main thread (pytest run in-process)
        signal.signal(signal.SIGTERM, _terminate)


def _noted(signum: int, frame: FrameType | None) -> None:
    """While the results are being written, a signal waits its turn."""


class FastStop:
    """Shortens xdist's wait for busy workers when the run was interrupted, and keeps
    a late Ctrl-C or SIGTERM from cutting the writing of the results short."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                signal.signal(signum, _noted)
            except ValueError:   # not the main thread
                break
        if exitstatus != pytest.ExitCode.INTERRUPTED:
            return
        dsession = session.config.pluginmanager.getplugin("dsession")
        nodes = getattr(dsession, "nodemanager", None)
        if nodes is not None:
            nodes.EXIT_TIMEOUT = WORKER_GRACE
