"""Third-party candidates fetched from PyPI at run time into the user's cache, once.

Candidates written by others (the App Engine SDK, egress-guard libraries) are
never vendored: their adapters pin a version and this module fetches it with
pip's ordinary client (pip's own settings apply: `PIP_NO_INDEX=1
PIP_FIND_LINKS=DIR` for a local wheel) into
`$XDG_CACHE_HOME/gae-sockets-conformance/` (default `~/.cache/...`).

A cache entry is filled in a staging directory beside it and moved into
place only when complete, so a half-filled entry is never mistaken for one,
and parallel workers filling the same entry do not trip over each other.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

CACHE_NAME = "gae-sockets-conformance"
#: Written last into a filled `install` entry: its presence means "complete".
COMPLETE_MARKER = ".complete"
PIP_TIMEOUT = 600


class PackageUnavailable(RuntimeError):
    """pip could not fetch a pinned candidate; the message says what pip said."""


def cache_root() -> Path:
    """The suite's directory in the user's cache."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / CACHE_NAME


def fill_once(target: Path, fill: Callable[[Path], None],
              is_complete: Callable[[Path], bool]) -> Path:
    """`target`, filled by `fill(staging)` unless `is_complete(target)` already."""
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as tmp:
        staging = Path(tmp) / "staging"
        fill(staging)
        if not is_complete(staging):
            raise PackageUnavailable(f"filling {target} left an incomplete entry")
        if not is_complete(target):
            shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(staging, target)
            except OSError:
                if not is_complete(target):   # else a parallel worker got there first
                    raise
    return target


def run_pip(python: str, args: Sequence[str]) -> None:
    """`python -m pip ARGS`, or PackageUnavailable with the tail of pip's output."""
    command = [python, "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=PIP_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PackageUnavailable(f"`{' '.join(command)}` failed: {exc}") from exc
    if done.returncode != 0:
        raise PackageUnavailable(f"`{' '.join(command)}` exited {done.returncode}: "
                                 f"{(done.stderr or done.stdout).strip()[-800:]}")


def download_wheel(requirement: str, dest: Path) -> Path:
    """`pip download --no-deps REQUIREMENT` into `dest`; the wheel's path."""
    dest.mkdir(parents=True, exist_ok=True)
    run_pip(sys.executable, ["download", "--no-deps", "-d", str(dest), requirement])
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise PackageUnavailable(f"`pip download {requirement}` left no wheel in {dest}")
    return wheels[0]


def installed_complete(path: Path) -> bool:
    return (path / COMPLETE_MARKER).is_file()


def install_target(requirements: Sequence[str], python: str, key: str) -> Path:
    """The cache directory holding `requirements` and their dependencies, installed
    for `python` with `pip install --target` (filled on first use).

    `key` names the entry; it should carry every pin, so that changing a pin
    makes a new entry instead of reusing a stale one.
    """
    def fill(staging: Path) -> None:
        run_pip(python, ["install", "--target", str(staging), "--no-compile", *requirements])
        (staging / COMPLETE_MARKER).write_text("\n".join(requirements) + "\n", encoding="utf-8")

    return fill_once(cache_root() / key, fill, installed_complete)
