"""Every TCP server of the world listens with the intended backlog (BACKLOG).

asyncio's start_server and create_server call listen() again with their own
default (100); a burst to a server-speaks-first service then left clients
connected but never greeted. `ss` reports a listener's backlog as its Send-Q.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fakenet.tcpserver import BACKLOG

pytestmark = pytest.mark.world


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2), as the world does")
def test_every_listener_has_the_full_backlog(live_world) -> None:
    out = subprocess.run(live_world.enter(["ss", "-ltnH"]), capture_output=True, text=True,
                         timeout=30, check=True).stdout
    backlogs = {}
    for line in out.splitlines():
        fields = line.split()
        backlogs[fields[3]] = int(fields[2])
    assert len(backlogs) > 20, out
    short = {where: n for where, n in backlogs.items() if n != BACKLOG}
    assert not short, f"listeners with a backlog other than {BACKLOG}: {short}"
