"""The driver's side of a resident catalogue process (resident.py): start it in a
scratch copy, ask for the baseline, then one run per mutant; a run that passes
its time limit kills the process, which is started again for the next mutant."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from .resident import CONTROL_ENV
from .scratch import ScratchTree

REFERENCE = "sandbox.adapter:ReferenceAdapter"   # imported from the copy (check_imports)


class ResidentError(RuntimeError):
    """The resident process died or answered garbage."""


class ResidentCatalogue:
    """One long-lived `conformance run` (serial) in one scratch copy."""

    def __init__(self, tree: ScratchTree, log: Path, nice: int = 10) -> None:
        self.tree = tree
        self.log = log
        self.nice = nice
        self.proc: subprocess.Popen[bytes] | None = None
        self._to: IO[str] | None = None
        self._from: IO[str] | None = None
        self.startup_seconds = 0.0     # process start to ready: collection, world
        self.baseline_seconds = 0.0    # the unmutated run of every case, serial
        self.baseline: dict[str, str] = {}

    def start(self) -> None:
        """Start the process and take its baseline (every case, unmutated)."""
        self.spawn()
        answer = self.request({"op": "baseline"}, 900)
        self.baseline, self.baseline_seconds = answer["outcomes"], float(answer["seconds"])

    def respawn(self) -> None:
        """Start the process again from what is on disk, keeping the baseline: for a
        module the harness process itself imports (the adapter)."""
        self.stop()
        self.spawn()

    def spawn(self) -> None:
        """Start the process and wait until it has collected the catalogue."""
        started = time.monotonic()
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**self.tree.env(), CONTROL_ENV: f"{to_child_r},{from_child_w}"}
        # --adapter, not --candidate reference, and --cases: an installed package
        # registers the reference and the catalogue under names of their own
        # (gae_sockets_sandbox, gae_sockets_catalogue), which point at the checkout it
        # was installed from, not necessarily this copy's (a worktree's new cases)
        argv = [sys.executable, "-m", "conformance", "run", "--adapter", REFERENCE,
                "--cases", str(self.tree.root / "cases"),
                "--report", str(self.tree.root.parent / "resident-report"), "-q",
                "-p", "benchmarks.strength.resident"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, cwd=self.tree.root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         pass_fds=(to_child_r, from_child_w),
                                         preexec_fn=lambda: _child_setup(self.nice))
        os.close(to_child_r)
        os.close(from_child_w)
        self._to = os.fdopen(to_child_w, "w")
        self._from = os.fdopen(from_child_r, "r")
        try:
            hello = self._read(600)
        except TimeoutError as exc:
            self.stop()
            raise ResidentError(f"the resident catalogue did not start: {exc}") from exc
        if not hello.get("ready"):
            raise ResidentError(f"the resident catalogue did not start: {hello}")
        self.startup_seconds = time.monotonic() - started

    def run(self, first: Sequence[str], timeout: float) -> tuple[dict[str, str], str]:
        """Outcomes of a run against what is on disk now, and "ok", "timeout" or "died".
        After "timeout" or "died" the process is gone: restart() it once the unmutated
        source is back (its baseline is taken from what is on disk)."""
        try:
            return self.request({"op": "run", "first": list(first)}, timeout)["outcomes"], "ok"
        except TimeoutError:
            self.stop()
            return {}, "timeout"
        except ResidentError:
            self.stop()
            return {}, "died"

    def restart(self) -> None:
        self.stop()
        self.start()

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        if self._to is None:
            raise ResidentError("not started")
        try:
            self._to.write(json.dumps(message) + "\n")
            self._to.flush()
        except OSError as exc:
            raise ResidentError(f"the resident catalogue is gone: {exc}; see {self.log}") \
                from exc
        return self._read(timeout)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self._from is not None
        ready, _, _ = select.select([self._from], [], [], timeout)
        if not ready:
            raise TimeoutError(f"no answer in {timeout:.0f} s")
        line = self._from.readline()
        if not line:
            raise ResidentError(f"the resident catalogue exited; see {self.log}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None and self._to is not None:
            try:
                self._to.write('{"op": "stop"}\n')
                self._to.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                _stop(self.proc)
        for handle in (self._to, self._from):
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()
        self.proc, self._to, self._from = None, None, None


def _child_setup(nice: int) -> None:
    """Niced, and Ctrl-C restored: a driver started in the background has SIGINT
    ignored, which the run would inherit, and _stop relies on it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if nice:
        os.nice(nice)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the run's own process group (pytest then stops its world), SIGKILL
    if it is still there after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()
