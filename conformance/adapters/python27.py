"""Where a candidate finds its Python 2.7: one setting, `CONFORMANCE_PYTHON27`.

Used by every candidate that runs Python 2.7 code (`native-py27`, the App
Engine SDK). Without one, the candidate cannot be built: the run refuses in
one line (conformance.preflight) instead of turning every case UNSUPPORTED.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PYTHON27_ENV = "CONFORMANCE_PYTHON27"
PYENV_PYTHON27 = Path("/root/.pyenv/versions/2.7.18/bin/python")


class Python27Missing(RuntimeError):
    """No Python 2.7 to run the candidate; the message says how to name one."""


def probe_python27(executable: str) -> str | None:
    """The real path of `executable` if it runs and is Python 2.7, else None
    (a pyenv shim that is not active fails here and is skipped)."""
    try:
        done = subprocess.run(
            [executable, "-E", "-S", "-c",
             "import sys; sys.stdout.write('%d.%d %s' % (sys.version_info[0], "
             "sys.version_info[1], sys.executable))"],
            capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    version, _, path = done.stdout.partition(" ")
    if done.returncode != 0 or version != "2.7" or not path:
        return None
    return path


def find_python27() -> str:
    """$CONFORMANCE_PYTHON27, else python2.7 on PATH, else pyenv's 2.7.18."""
    named = os.environ.get(PYTHON27_ENV)
    if named:
        found = probe_python27(named)
        if found is None:
            raise Python27Missing(f"{PYTHON27_ENV}={named!r} does not run as Python 2.7")
        return found
    for candidate in (shutil.which("python2.7"), str(PYENV_PYTHON27)):
        if candidate and (found := probe_python27(candidate)):
            return found
    raise Python27Missing(
        f"no Python 2.7 found: set {PYTHON27_ENV} to a python2.7 executable, or put "
        f"python2.7 on PATH (tried {PYENV_PYTHON27} too)")
