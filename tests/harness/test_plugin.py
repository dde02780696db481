"""The pytest plugin end to end: outcome mapping per level, selection, exit
codes, results carried through xdist, and clear errors for bad options.

Each test runs pytest in a subprocess on a small case file, against native on
a LocalWorld (no namespace; the cases only touch 127.0.0.1 or nothing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.model import Outcome
from conformance.reporting.results_json import load_results

from .helpers import PROJECT, closed_port

CASES = '''
import pytest
from conformance.adapter import Unsupported

@pytest.mark.clause("API-1", "MUST")
def test_must_pass(instance):
    assert instance.module("socket").AF_INET == 2

@pytest.mark.clause("API-1", "MUST")
def test_must_fail(verdict):
    verdict.check(False, expected="the thing", observed="another thing", name="demo")

@pytest.mark.clause("API-5", "SHOULD")
def test_should_fail():
    assert False, "not as it should"

@pytest.mark.clause("API-5", "SHOULD")
def test_should_pass():
    pass

@pytest.mark.clause("API-7", "MAY")
def test_may_fail():
    assert False, "recorded"

@pytest.mark.clause("API-7", "MAY")
def test_may_pass():
    pass

@pytest.mark.clause("IDLE-1", "MUST")
def test_unsupported_clock(clock):
    clock.advance(1)

@pytest.mark.clause("OPT-4", "MUST")
def test_unsupported_raised(candidate):
    candidate.require_profile("sdk-pre-1.8.1")

@pytest.mark.clause("API-2", "MUST")
def test_remote_error_escapes(instance):
    instance.module("socket").create_connection(("127.0.0.1", CLOSED_PORT), 2)

@pytest.mark.clause("API-2", "MUST")
def test_candidate_crash(instance):
    instance.module("os")._exit(3)

@pytest.mark.clause("API-3", "MUST")
def test_candidate_hangs(instance):
    instance.module("time").sleep(60)

@pytest.mark.clause("API-2", "MUST")
def test_after_crash_runs_on(instance):
    assert instance.module("operator").add(2, 2) == 4

@pytest.mark.clause("NOPE-1", "MUST")
def test_unknown_clause():
    pass

@pytest.mark.clause("API-5", "MUST")
def test_level_the_clause_lacks():
    pass

@pytest.mark.clause("API-2", "MUST")
def test_broken_case():
    {}["missing"]

def test_plain_test_is_left_alone():
    pass
'''

EXPECTED = {
    "test_must_pass": Outcome.PASS,
    "test_must_fail": Outcome.FAIL,
    "test_should_fail": Outcome.NON_STRICT,
    "test_should_pass": Outcome.PASS,
    "test_may_fail": Outcome.INFORMATIONAL,
    "test_may_pass": Outcome.INFORMATIONAL,
    "test_unsupported_clock": Outcome.UNSUPPORTED,
    "test_unsupported_raised": Outcome.UNSUPPORTED,
    "test_remote_error_escapes": Outcome.FAIL,
    "test_candidate_crash": Outcome.ERROR,
    "test_candidate_hangs": Outcome.ERROR,
    "test_after_crash_runs_on": Outcome.PASS,
    "test_unknown_clause": Outcome.ERROR,
    "test_level_the_clause_lacks": Outcome.ERROR,
    "test_broken_case": Outcome.ERROR,
}


def run_pytest(tmp_path: Path, source: str, *args: str,
               adapter: str = "tests.harness.helpers:LocalNativeAdapter"):
    cases = tmp_path / "test_cases.py"
    cases.write_text(source.replace("CLOSED_PORT", str(closed_port())))
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    argv = [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
            "--conformance-world", "tests.harness.helpers:start_local_world",
            "--call-timeout", "2", "--report", str(tmp_path / "out"), "-q", "-rA", str(cases),
            *args]
    if adapter:
        argv[argv.index("--report"):argv.index("--report")] = ["--adapter", adapter]
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    results_file = tmp_path / "out" / "results.json"
    results = ({c.case_id.split("::")[-1]: c for c in load_results(results_file).cases}
               if results_file.exists() else {})
    return proc, results


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return run_pytest(tmp_path_factory.mktemp("full"), CASES)


def test_outcome_per_level(full_run):
    proc, results = full_run
    assert {k: v.outcome for k, v in results.items()} == EXPECTED, proc.stdout + proc.stderr
    assert "test_plain_test_is_left_alone" not in results
    assert proc.returncode == 1       # a FAIL and ERRORs occurred


def test_pytest_sees_the_mapping(full_run):
    proc, _ = full_run
    out = proc.stdout
    assert "PASSED test_cases.py::test_should_fail" in out      # NON-STRICT passes for pytest
    assert "PASSED test_cases.py::test_may_fail" in out
    assert "FAILED test_cases.py::test_must_fail" in out
    assert "UNSUPPORTED: candidate 'native-local' lacks capability 'clock'" in out
    assert "conformance: " in out and "1 NON-STRICT" in out


def test_evidence_and_clause_text(full_run):
    _, results = full_run
    failed = results["test_must_fail"]
    assert failed.expected == "the thing" and failed.observed == "another thing"
    assert failed.clause.id == "API-1" and failed.clause.requirement
    assert {"check": "demo", "ok": False, "expected": "the thing",
            "observed": "another thing"} in [dict(e) for e in failed.evidence]
    crashed = results["test_candidate_crash"]
    assert "exit status 3" in crashed.reason
    assert any("stderr_tail" in e for e in crashed.evidence)
    assert "no answer within 2s" in results["test_candidate_hangs"].reason
    refused = results["test_remote_error_escapes"]
    assert "ECONNREFUSED" in refused.observed
    assert "unknown clause 'NOPE-1'" in results["test_unknown_clause"].reason
    assert "has no MUST level" in results["test_level_the_clause_lacks"].reason
    assert "KeyError" in results["test_broken_case"].reason
    assert results["test_must_pass"].duration > 0


def test_junit_carries_clause_properties(full_run, tmp_path):
    proc, _ = full_run
    junit = next(Path(p) for p in proc.args if str(p).endswith("/out")) / "junit.xml"
    text = junit.read_text()
    assert 'name="clause" value="API-5"' in text and 'name="level" value="SHOULD"' in text


SOFT = '''
import pytest

@pytest.mark.clause("API-5", "SHOULD")
def test_should_fail():
    assert False

@pytest.mark.clause("API-7", "MAY")
def test_may_fail():
    assert False

@pytest.mark.clause("IDLE-1", "MUST")
def test_unsupported(clock):
    pass
'''


def test_soft_outcomes_do_not_fail_the_run(tmp_path):
    proc, results = run_pytest(tmp_path, SOFT)
    assert proc.returncode == 0, proc.stdout
    assert results["test_should_fail"].outcome is Outcome.NON_STRICT


def test_strict_makes_non_strict_fail(tmp_path):
    proc, results = run_pytest(tmp_path, SOFT, "--conformance-strict")
    assert proc.returncode == 1
    assert "FAILED" in proc.stdout and results["test_should_fail"].outcome is Outcome.NON_STRICT


def test_clause_selection(tmp_path):
    proc, results = run_pytest(tmp_path, CASES, "--clause", "API-7", "--clause", "IDLE")
    assert set(results) == {"test_may_fail", "test_may_pass", "test_unsupported_clock"}
    assert proc.returncode == 0, proc.stdout


def test_unknown_clause_selection(tmp_path):
    proc, _ = run_pytest(tmp_path, SOFT, "--clause", "XYZ")
    assert proc.returncode == 4 and "--clause XYZ: no such clause or family" in proc.stderr


def test_unknown_candidate(tmp_path):
    proc, _ = run_pytest(tmp_path, SOFT, "--candidate", "nope", adapter="")
    assert proc.returncode == 4
    assert "unknown candidate 'nope'" in proc.stderr and "native" in proc.stderr


def test_broken_adapter_path(tmp_path):
    proc, _ = run_pytest(tmp_path, SOFT, adapter="no_such_pkg.mod:Adapter")
    assert proc.returncode == 4
    assert "cannot import module 'no_such_pkg.mod'" in proc.stderr


def test_xdist_carries_results_to_the_controller(tmp_path):
    proc, results = run_pytest(tmp_path, CASES, "-n", "2")
    assert {k: v.outcome for k, v in results.items()} == EXPECTED, proc.stdout + proc.stderr
    assert proc.returncode == 1


INTERRUPTED = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
def test_first():
    pass

@pytest.mark.clause("API-1", "MUST")
def test_interrupt():
    raise KeyboardInterrupt

@pytest.mark.clause("API-1", "MUST")
def test_never_runs():
    pass
'''


def test_interrupted_run_still_writes_results(tmp_path):
    proc, results = run_pytest(tmp_path, INTERRUPTED)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert results["test_first"].outcome is Outcome.PASS
    # a case that never reported is an ERROR, saying how far it got
    assert results["test_interrupt"].outcome is Outcome.ERROR
    assert "during this case's call" in results["test_interrupt"].reason
    assert results["test_never_runs"].outcome is Outcome.ERROR
    assert "never ran" in results["test_never_runs"].reason
    run = load_results(tmp_path / "out" / "results.json").run
    assert run.interrupted and run.candidate == "native-local"


def test_interrupted_before_any_result_still_writes_results(tmp_path):
    first_interrupts = INTERRUPTED.replace("def test_first():\n    pass",
                                           "def test_first():\n    raise KeyboardInterrupt")
    proc, results = run_pytest(tmp_path, first_interrupts)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert {k: v.outcome for k, v in results.items()} == dict.fromkeys(
        ["test_first", "test_interrupt", "test_never_runs"], Outcome.ERROR)
    assert load_results(tmp_path / "out" / "results.json").run.interrupted


STOPS_AT_FIRST = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
def test_fails():
    assert False

@pytest.mark.clause("API-1", "MUST")
def test_passes():
    pass
'''


def test_exitfirst_is_an_interrupted_run(tmp_path):
    """-x stops the run early (serially pytest calls that TESTS_FAILED, under
    xdist INTERRUPTED): either way the results say cases may be missing, exit 2."""
    proc, results = run_pytest(tmp_path, STOPS_AT_FIRST, "-x")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert results["test_fails"].outcome is Outcome.FAIL
    assert results["test_passes"].outcome is Outcome.ERROR, "not run: lost, so an ERROR"
    assert load_results(tmp_path / "out" / "results.json").run.interrupted


WORKER_DIES = '''
import os, signal
import pytest

@pytest.mark.clause("API-1", "MUST")
def test_passes():
    pass

@pytest.mark.clause("API-1", "MUST")
def test_kills_its_worker():
    os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_case_whose_worker_died_is_an_error_and_the_run_interrupted(tmp_path):
    proc, results = run_pytest(tmp_path, WORKER_DIES, "-n", "2")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert results["test_passes"].outcome is Outcome.PASS
    dead = results["test_kills_its_worker"]
    assert dead.outcome is Outcome.ERROR
    assert "worker" in dead.reason and "crashed" in dead.reason, dead.reason
    assert load_results(tmp_path / "out" / "results.json").run.interrupted
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'errors="1"' in junit, junit[:400]
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "test_kills_its_worker" in summary and "interrupted" in summary.lower()


def test_native_python_setting(tmp_path):
    source = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
def test_version(instance):
    assert instance.hello.python.startswith("2.7")
'''
    py27 = "/root/.pyenv/versions/2.7.18/bin/python"
    if not os.access(py27, os.X_OK):
        pytest.skip("no Python 2.7 on this machine")
    os.environ["CONFORMANCE_NATIVE_PYTHON"] = py27   # inherited by the run below
    try:
        proc, results = run_pytest(tmp_path, source, "--candidate", "native", adapter="")
    finally:
        del os.environ["CONFORMANCE_NATIVE_PYTHON"]
    assert results["test_version"].outcome is Outcome.PASS, proc.stdout


def test_world_that_cannot_start_is_an_error_for_every_case(tmp_path):
    source = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
def test_one(instance):
    pass

@pytest.mark.clause("API-1", "MUST")
def test_two(verdict):
    pass
'''
    cases = tmp_path / "test_cases.py"
    cases.write_text(source)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
         "--conformance-world", "tests.harness.helpers:unavailable_world", "--candidate", "native",
         "--report", str(tmp_path / "out"), "-q", str(cases)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    results = load_results(tmp_path / "out" / "results.json").cases
    assert [r.outcome for r in results] == [Outcome.ERROR, Outcome.ERROR]
    assert all("user namespaces are disabled" in r.reason for r in results)
    assert proc.returncode == 1


def test_candidate_that_cannot_start_errors_every_case_with_its_stderr(tmp_path):
    proc, results = run_pytest(tmp_path, SOFT.replace("def test_should_fail():",
                                                      "def test_should_fail(instance):"),
                               adapter="tests.harness.helpers:CrashingAdapter")
    assert results["test_should_fail"].outcome is Outcome.ERROR
    assert "exploded on purpose" in results["test_should_fail"].reason
    assert results["test_may_fail"].outcome is Outcome.INFORMATIONAL   # needs no instance
    assert proc.returncode == 1


SMALL = '''
import pytest

@pytest.mark.clause("API-5", "SHOULD")
def test_one():
    pass

@pytest.mark.clause("API-5", "SHOULD")
def test_two():
    pass
'''


def test_partial_xdist_run_against_a_baseline_says_not_run_not_removed(tmp_path):
    """Under xdist the controller collects nothing itself: the workers' case ids
    must reach the baseline comparison, or a -k run would report "removed"."""
    baseline = tmp_path / "baseline.json"
    proc, _ = run_pytest(tmp_path, SMALL, "--baseline", str(baseline), "--update-baseline")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    proc, _ = run_pytest(tmp_path, SMALL, "--baseline", str(baseline), "-n", "2", "-k", "one")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = proc.stdout + proc.stderr
    assert "0 removed" in summary and "1 not run" in summary, summary[-2000:]
