"""Ctrl-C and SIGTERM at a named case, with -n 2: the run stops within about two
seconds, the results say interrupted, and every case not reported is an ERROR.

The case that sends the signal then sleeps, as a case stuck in a slow call
would; the controller must not wait for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.model import Outcome
from conformance.reporting.results_json import load_results

from ..harness.helpers import PROJECT

CASES = '''
import os, signal, time
import pytest

@pytest.mark.clause("API-1", "MUST")
@pytest.mark.parametrize("n", range(4))
def test_before(n):
    pass

@pytest.mark.clause("API-1", "MUST")
def test_signal_here():
    time.sleep(0.5)   # the other worker reports its cases first
    with open(os.environ["FAULT_STAMP"], "w") as stamp:
        stamp.write(repr(time.time()))
    if os.environ["FAULT_TARGET"] == "group":
        os.killpg(os.getpgid(0), signal.SIGINT)      # Ctrl-C in a terminal
    else:
        os.kill(os.getppid(), signal.SIGTERM)        # the xdist controller
    time.sleep(30)

@pytest.mark.clause("API-1", "MUST")
@pytest.mark.parametrize("n", range(20))
def test_after(n):
    time.sleep(0.3)
'''

# How long a stop may take: the 2 s the issue asks for, plus room for a loaded machine.
STOP_LIMIT = 4.0


def run_and_signal(tmp_path: Path, target: str) -> tuple[float, str, int]:
    """(seconds from the signal to the run's exit, its output, its exit status)."""
    cases = tmp_path / "test_cases.py"
    cases.write_text(CASES)
    stamp = tmp_path / "signalled-at"
    argv = [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
            "--conformance-world", "tests.harness.helpers:start_local_world",
            "--adapter", "tests.harness.helpers:LocalNativeAdapter",
            "--report", str(tmp_path / "out"), "-q", "-n", "2", str(cases),
            # hypothesis's plugin imports hypothesis when it prints its summary (2 s on a
            # loaded machine); the conformance CLI's environments do not have it
            "-p", "no:hypothesispytest"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "FAULT_TARGET": target,
           "FAULT_STAMP": str(stamp)}
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
    ended = time.time()
    assert stamp.exists(), out
    return ended - float(stamp.read_text()), out, proc.returncode


@pytest.mark.parametrize("target", ["group", "controller"],
                         ids=["ctrl-c-to-the-group", "sigterm-to-the-controller"])
def test_a_signal_stops_the_run_fast_and_the_results_say_interrupted(tmp_path, target):
    took, out, status = run_and_signal(tmp_path, target)
    assert took < STOP_LIMIT, f"stopping took {took:.1f} s\n{out}"
    assert status == 2, out
    results = load_results(tmp_path / "out" / "results.json")
    assert results.run.interrupted, out
    outcomes = {c.case_id.split("::")[-1]: c.outcome for c in results.cases}
    assert len(outcomes) == 25, outcomes
    assert outcomes["test_signal_here"] is Outcome.ERROR
    assert Outcome.ERROR in {outcomes[f"test_after[{n}]"] for n in range(20)}
    for name in ("junit.xml", "summary.md", "report.html"):
        assert "test_signal_here" in (tmp_path / "out" / name).read_text()
