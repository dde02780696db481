"""`python -m conformance ...` subcommands."""

from __future__ import annotations

import os
import subprocess
import sys

from .helpers import PROJECT


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_candidates_lists_the_bundled_ones():
    proc = conformance("candidates")
    assert proc.returncode == 0
    lines = {line.split()[0]: line for line in proc.stdout.splitlines()}
    assert "native" in lines and "native-py27" in lines and "reference" in lines
    assert "2.7.18" in lines["native-py27"]


def test_list_clauses_counts_cases_per_level():
    proc = conformance("list", "--clauses")
    assert proc.returncode in (0, 1), proc.stderr   # 1: a case names an unknown clause
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert "DST-1" in rows and "MUST" in rows["DST-1"]
    assert "cases" in rows["DST-1"]


def test_list_shows_case_ids():
    proc = conformance("list")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1].endswith(" cases")


def test_run_with_an_unknown_candidate_is_a_clear_error():
    proc = conformance("run", "--candidate", "no-such-one")
    assert proc.returncode == 2
    assert "unknown candidate 'no-such-one'" in proc.stderr and "native" in proc.stderr


def test_diff_delegates_to_the_reports(tmp_path):
    proc = conformance("diff", str(tmp_path / "missing-old.json"), str(tmp_path / "new.json"))
    assert proc.returncode == 2 and "missing-old.json" in (proc.stderr + proc.stdout)


def test_usage_error_for_unknown_subcommand():
    proc = conformance("frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
