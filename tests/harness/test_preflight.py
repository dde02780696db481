"""A wrong setup is refused by `run` in one line with exit 2, before any case
runs: never a run of ERRORs blamed on the candidate, nor a green run of
UNSUPPORTED ones (conformance.preflight)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import PROJECT

LOCAL_WORLD = ("--conformance-world", "tests.harness.helpers:start_local_world")


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--clause", "API-1",
         "--report", str(tmp_path / "out"), *args],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)


def refused(proc: subprocess.CompletedProcess[str], tmp_path: Path, *words: str,
            tail: bool = False) -> str:
    """The run exited 2 with one `error:` line saying `words` (then, with `tail`,
    the instance's stderr), and ran nothing."""
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, proc.stderr
    assert proc.stderr.startswith(errors[0]), proc.stderr
    assert proc.stdout == "", proc.stdout
    assert tail or len(proc.stderr.splitlines()) == 1, proc.stderr
    for word in words:
        assert word in errors[0], errors[0]
    assert not (tmp_path / "out" / "results.json").exists()
    return proc.stderr


def test_unknown_profile(tmp_path):
    refused(run(tmp_path, "--candidate", "native", "--profile", "nosuch", *LOCAL_WORLD),
            tmp_path, "--profile nosuch", "it has: default")


def test_candidate_and_adapter_together(tmp_path):
    refused(run(tmp_path, "--candidate", "native",
                "--adapter", "tests.harness.helpers:LocalNativeAdapter", *LOCAL_WORLD),
            tmp_path, "--candidate native", "--adapter")


def test_unknown_candidate(tmp_path):
    refused(run(tmp_path, "--candidate", "nosuch"), tmp_path, "unknown candidate 'nosuch'")


def test_adapter_that_cannot_be_built(tmp_path):
    refused(run(tmp_path, "--adapter", "tests.harness.helpers:UnbuildableAdapter",
                *LOCAL_WORLD), tmp_path, "cannot be set up", "runtime that is not here")


def test_candidate_lacking_python27(tmp_path):
    refused(run(tmp_path, "--candidate", "native-py27", *LOCAL_WORLD,
                env={"CONFORMANCE_PYTHON27": str(tmp_path / "no-python")}),
            tmp_path, "native-py27", "does not run as Python 2.7")


def test_session_that_cannot_open(tmp_path):
    refused(run(tmp_path, "--adapter", "tests.harness.helpers:SessionFailsAdapter",
                *LOCAL_WORLD), tmp_path, "session cannot open", "refused to start")


def test_instance_that_cannot_boot_shows_its_stderr_once(tmp_path):
    stderr = refused(run(tmp_path, "--adapter", "tests.harness.helpers:CrashingAdapter",
                         *LOCAL_WORLD), tmp_path, "an instance cannot boot", tail=True)
    assert stderr.count("RuntimeError: the candidate's bootstrap exploded") == 1, stderr


def test_no_namespace(tmp_path):
    refused(run(tmp_path, "--candidate", "native", "--conformance-world",
                "tests.harness.helpers:unavailable_world"),
            tmp_path, "fake internet cannot start", "user namespaces are disabled")


@pytest.mark.parametrize("content, words", [
    (None, ("no such file",)),
    ("hosts = [", ("cannot read world file",)),
])
def test_bad_world_file(tmp_path, content, words):
    world = tmp_path / "world.toml"
    if content is not None:
        world.write_text(content)
    refused(run(tmp_path, "--candidate", "native", "--world", str(world)), tmp_path,
            f"--world {world}", *words)


def test_unwritable_report_directory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--candidate", "native",
         "--report", str(blocker / "out"), *LOCAL_WORLD],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: --report {blocker}/out"), \
        proc.stderr
