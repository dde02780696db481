"""Scratch directories of worlds and harness processes, under one parent per user.

A world's workdir holds the test CA's private key; nothing may outlive the
run that made it, not even a SIGKILL of the whole run. So every scratch
directory lives under `PARENT` and is named after the process that owns it
(`<prefix><pid>-<random>`): a world removes its own when its control pipe
closes (fakenet/runtime.py), an orderly harness removes its own, and the
next run (`sweep()`, called by `make()`) or `python -m fakenet clean`
removes any whose owner is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

PARENT = Path(tempfile.gettempdir()) / f"gae-conformance-{os.getuid()}"
_OWNED = re.compile(r"^[a-z]+-(\d+)-")


def make(prefix: str) -> Path:
    """A fresh private directory owned by this process; sweeps orphans first."""
    PARENT.mkdir(mode=0o700, exist_ok=True)
    sweep()
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=PARENT))


def owner(path: Path) -> int | None:
    found = _OWNED.match(path.name)
    return int(found.group(1)) if found else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(everything: bool = False) -> list[Path]:
    """Remove every scratch directory whose owner process is gone (all, if
    `everything`); returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(PARENT.iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = owner(entry)
        if everything or pid is None or not _alive(pid):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed
