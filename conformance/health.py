"""Candidate health: a verdict is never drawn while the candidate's service was down.

Every helper an adapter starts with `SessionContext.spawn` (e.g. the
reference's socket service) is watched. A dead helper is not a policy:
an app whose service vanished gets ENETDOWN, which a "blocked" check would
take for a refusal. So the plugin checks the helpers after each case's call
(`check`): a death makes the case ERROR, "candidate service ... exited with
signal 9 (SIGKILL) during case X"; and before the next case (`revive`) the
harness reopens the session where the adapter allows it, so the run goes on.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass

from conformance.instance import CandidateError

# A helper killed mid-call closes its sockets a moment before it can be reaped:
# a case that failed looks again for this long before it trusts the helper.
REAP_GRACE = 0.2


class CandidateDown(CandidateError):
    """A helper process of the candidate died: the case is ERROR, never a verdict."""


@dataclass(frozen=True)
class Spawned:
    """One helper an adapter started through SessionContext.spawn."""

    argv: tuple[str, ...]
    proc: subprocess.Popen[bytes]

    def describe(self) -> str:
        return " ".join(self.argv[-4:]) if len(self.argv) > 4 else " ".join(self.argv)


def describe_exit(code: int) -> str:
    """'signal 9 (SIGKILL)' or 'status 3'."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown"
        return f"signal {-code} ({name})"
    return f"status {code}"


def dead(helpers: Sequence[Spawned]) -> list[str]:
    """One line per helper that has exited."""
    return [f"candidate service {h.describe()!r} (pid {h.proc.pid}) exited with "
            f"{describe_exit(code)}"
            for h in helpers if (code := h.proc.poll()) is not None]


def check(helpers: Sequence[Spawned], case_id: str, *, failed: bool) -> None:
    """Raise CandidateDown if a helper died; a failed case waits REAP_GRACE first."""
    found = dead(helpers)
    if not found and failed and helpers:
        deadline = time.monotonic() + REAP_GRACE
        while not found and time.monotonic() < deadline:
            time.sleep(0.02)
            found = dead(helpers)
    if found:
        raise CandidateDown("; ".join(f"{line} during case {case_id}" for line in found)
                            + ": no verdict can be drawn from a candidate whose service was "
                              "down")
