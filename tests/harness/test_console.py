"""The console of a run (conformance.console): a progress line per tenth in a
log, a roll-up by clause with the failures last, the verdict line last."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conformance.console import rollup_lines
from conformance.model import CaseResult, ClauseRef, Level, Outcome

from .helpers import PROJECT

CASES = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
@pytest.mark.parametrize("n", range(3))
def test_must(n):
    assert n != 1, "broken on purpose"

@pytest.mark.clause("API-5", "SHOULD")
@pytest.mark.parametrize("n", range(17))
def test_should(n):
    assert n % 2

@pytest.mark.clause("API-1", "MUST")
def test_passes():
    pass
'''


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cases = tmp_path / "test_cases.py"
    cases.write_text(CASES)
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--cases", str(cases),
         "--adapter", "tests.harness.helpers:LocalNativeAdapter",
         "--conformance-world", "tests.harness.helpers:start_local_world", *args],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True, text=True, timeout=120)


def test_a_failing_run_ends_with_the_rollup_and_the_verdict(tmp_path):
    proc = run(tmp_path)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert lines[-1].startswith("conformance verdict: FAILED (exit 1), 21 results:")
    assert "1 FAIL" in lines[-1] and "9 NON-STRICT" in lines[-1]
    progress = [line for line in lines if line.startswith("conformance: ")]
    assert len(progress) == 10 and progress[-1].startswith("conformance: 21/21 (100%)")
    rows = [line.split()[:4] for line in lines if line.startswith("API-")]
    assert rows == [["API-5", "SHOULD", "NON-STRICT", "9"], ["API-1", "MUST", "FAIL", "1"]]
    assert "observed:" in proc.stdout and "test_cases.py::test_must[1]" in proc.stdout
    assert not any(line.startswith("FAILED") for line in lines)   # pytest's detail is opt-in


def test_verbose_keeps_pytest_detail(tmp_path):
    proc = run(tmp_path, "-v", "-rA")
    assert "test_cases.py::test_must[1] FAILED" in proc.stdout, proc.stdout
    assert "FAILED test_cases.py::test_must[1]" in proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("conformance verdict: FAILED (exit 1)")


def _result(case_id: str, clause: str, level: Level, outcome: Outcome) -> CaseResult:
    return CaseResult(case_id, ClauseRef(clause, level, ""), outcome, "e", "o")


def test_rollup_puts_what_fails_the_run_last():
    results = [
        _result("a", "DST-1", Level.MUST, Outcome.FAIL),
        _result("b", "DST-1", Level.MUST, Outcome.FAIL),
        _result("c", "DST-2", Level.SHOULD, Outcome.NON_STRICT),
        _result("d", "API-1", Level.MUST, Outcome.ERROR),
        _result("e", "API-1", Level.MUST, Outcome.PASS),
    ]
    rows = [line.split()[:4] for line in rollup_lines(results, strict=False)
            if not line.startswith(" ")][1:]
    assert rows == [["DST-2", "SHOULD", "NON-STRICT", "1"], ["API-1", "MUST", "ERROR", "1"],
                    ["DST-1", "MUST", "FAIL", "2"]]
    strict_rows = [line.split()[0] for line in rollup_lines(results, strict=True)
                   if not line.startswith(" ")][1:]
    assert strict_rows == ["API-1", "DST-1", "DST-2"]
