"""A pytest plugin that injects one fault at a named case (loaded with -p tests.faults.killer).

    FAULT_KILL=service|instance|world|worker|run FAULT_AT=SUBSTRING-OF-CASE-ID

Just before the first case whose id contains FAULT_AT runs its body, on the
worker that runs it: SIGKILL the candidate's spawned service, the case's
instance, the world process, the xdist worker itself, or the whole run (its
process group).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from conformance.fixtures import RUN_STATE, case_state

_done = False


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    global _done
    what, where = os.environ.get("FAULT_KILL"), os.environ.get("FAULT_AT", "")
    if what and where and where in item.nodeid and not _done:
        _done = True
        run = item.config.stash[RUN_STATE]
        if what == "service":
            for helper in run.helpers():
                os.kill(helper.proc.pid, signal.SIGKILL)
        elif what == "instance":
            for inst in case_state(item).instances:
                inst.kill()
        elif what == "world":
            os.kill(run.world.pid, signal.SIGKILL)
        elif what == "worker":
            os.kill(os.getpid(), signal.SIGKILL)
        elif what == "run":
            os.killpg(os.getpgid(0), signal.SIGKILL)
    return (yield)
