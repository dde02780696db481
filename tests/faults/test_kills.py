"""Kills during a catalogue run against the reference: each fault is evidence, never a verdict.

A slice of the catalogue (DST-4, 8 blocked-multicast cases, where a dead
service's ENETDOWN would pass for a refusal) runs with -n 2 and one fault
injected at a named case by tests/faults/killer.py. Every report must show
the case as ERROR; a lost case marks the run interrupted and is a regression
against a clean baseline; nothing is left in /tmp.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.model import Outcome
from conformance.reporting.results_json import load_results
from fakenet import workdirs

from ..harness.helpers import PROJECT

pytestmark = pytest.mark.world

CLAUSE = "DST-4"
TARGET = "DST-4:multicast:239.255.0.1:udp7"
CASES = 8


def run(report: Path, *extra: str, kill: str | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    if kill:
        env.update(FAULT_KILL=kill, FAULT_AT=TARGET)
    argv = [sys.executable, "-m", "conformance", "run", "--candidate", "reference",
            "--clause", CLAUSE, "-n", "2", "--report", str(report), "-q",
            "-p", "tests.faults.killer", "-p", "no:hypothesispytest", *extra]
    return subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("clean")
    path = where / "baseline.json"
    done = run(where / "out", "--baseline", str(path), "--update-baseline")
    assert done.returncode == 0, done.stdout + done.stderr
    return path


def outcomes(report: Path) -> dict[str, Outcome]:
    return {c.case_id.split("[")[-1].rstrip("]"): c.outcome
            for c in load_results(report / "results.json").cases}


def target_in_every_report(report: Path) -> None:
    junit = (report / "junit.xml").read_text()
    assert 'errors="0"' not in junit.split("<testcase", 1)[0], junit[:500]
    for name in ("summary.md", "report.html"):
        assert TARGET in (report / name).read_text(), name


def test_a_killed_service_is_an_error_and_the_session_reopens(tmp_path, baseline):
    done = run(tmp_path, kill="service")
    found = outcomes(tmp_path)
    assert found.pop(TARGET) is Outcome.ERROR, done.stdout
    assert set(found.values()) == {Outcome.PASS}, found   # reopened: the rest judged
    case = next(c for c in load_results(tmp_path / "results.json").cases if TARGET in c.case_id)
    assert "exited with signal 9 (SIGKILL) during case" in case.reason, case.reason
    assert not load_results(tmp_path / "results.json").run.interrupted
    target_in_every_report(tmp_path)


def test_a_killed_instance_is_an_error(tmp_path, baseline):
    run(tmp_path, kill="instance")
    found = outcomes(tmp_path)
    assert found.pop(TARGET) is Outcome.ERROR
    assert set(found.values()) == {Outcome.PASS}, found


def test_a_killed_world_is_an_error_never_a_verdict(tmp_path, baseline):
    run(tmp_path, kill="world")
    found = outcomes(tmp_path)
    assert found[TARGET] is Outcome.ERROR
    assert Outcome.FAIL not in found.values()


def test_a_killed_worker_loses_its_case_as_an_error_and_a_regression(tmp_path, baseline):
    done = run(tmp_path, "--baseline", str(baseline), kill="worker")
    results = load_results(tmp_path / "results.json")
    assert results.run.interrupted
    found = outcomes(tmp_path)
    assert len(found) == CASES and found[TARGET] is Outcome.ERROR, found
    target_in_every_report(tmp_path)
    assert done.returncode != 0
    said = done.stdout + done.stderr
    assert "0 regression" not in said and "regression" in said, said[-1500:]
    summary = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert summary, summary


def _ours(since: float) -> list[Path]:
    """Scratch directories made since `since` whose owner process is gone."""
    found = []
    for path in workdirs.PARENT.glob("*"):
        try:
            fresh = path.stat().st_mtime >= since - 1
        except OSError:
            continue
        if fresh and not _alive(workdirs.owner(path)):
            found.append(path)
    return found


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigkill_of_the_whole_run_leaves_nothing_behind(tmp_path):
    """The worlds remove their workdirs (the CA's private key) themselves; the
    harness's own scratch directories go with the next run or `fakenet clean`."""
    began = time.time()
    run(tmp_path, kill="run")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(p.name.startswith("fakenet-")
                                              for p in _ours(began)):
        time.sleep(0.1)
    keys = [p for p in _ours(began) if p.name.startswith("fakenet-")]
    assert not keys, f"world workdirs (the CA's private key) left behind: {keys}"
    subprocess.run([sys.executable, "-m", "fakenet", "clean"], cwd=PROJECT, check=True,
                   env={**os.environ, "PYTHONPATH": str(PROJECT)}, capture_output=True)
    assert not _ours(began), "left behind after the next clean"
