"""Nothing left behind: a world's workdir (the test CA's private key) goes on any exit.

The harness removes what it made when it stops in order; when it is SIGKILLed,
the orphaned world removes its own workdir as its control pipe closes, and
scratch directories of dead processes are swept by the next run or by
`python -m fakenet clean`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from fakenet import workdirs

from ..harness.helpers import PROJECT

HOLDER = '''
import sys, time
from fakenet import WorldHandle
world = WorldHandle.start()
print(world.workdir, world.pid, flush=True)
time.sleep(600)
'''


def _gone(path, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.world
def test_an_orphaned_world_removes_its_workdir() -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True,
                              cwd=PROJECT, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert holder.stdout is not None
    workdir, world_pid = holder.stdout.readline().split()
    assert os.path.isdir(workdir) and os.path.dirname(workdir) == str(workdirs.PARENT)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    assert _gone(workdir), f"{workdir} outlived the SIGKILLed harness: {os.listdir(workdir)}"
    assert _gone(f"/proc/{world_pid}"), "the orphaned world kept running"


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_directories_of_dead_owners() -> None:
    mine = workdirs.make("conformance")
    orphan = workdirs.PARENT / f"fakenet-{_dead_pid()}-test"
    (orphan / "ca").mkdir(parents=True)
    (orphan / "ca" / "key.pem").write_text("secret")
    try:
        removed = workdirs.sweep()
        assert orphan in removed and not orphan.exists()
        assert mine.is_dir() and mine not in removed
    finally:
        shutil.rmtree(mine, ignore_errors=True)


def test_fakenet_clean_says_what_it_removed() -> None:
    workdirs.PARENT.mkdir(mode=0o700, exist_ok=True)
    orphan = workdirs.PARENT / f"conformance-{_dead_pid()}-test"
    orphan.mkdir()
    done = subprocess.run([sys.executable, "-m", "fakenet", "clean"], capture_output=True,
                          text=True, cwd=PROJECT, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert done.returncode == 0, done.stderr
    assert f"removed {orphan}" in done.stdout and not orphan.exists()
