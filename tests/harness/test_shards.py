"""`run --shard K/N` and `merge`: N shards merged are the unsharded run, case by
case; a merge that would give a wrong verdict is refused (conformance.merge)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.merge import MergeError, merge
from conformance.model import CaseResult, ClauseRef, Level, Outcome, RunInfo
from conformance.reporting.results_json import load_results, write_results
from conformance.shards import Shard, ShardError

from .helpers import PROJECT

CASES = '''
import pytest

@pytest.mark.clause("API-1", "MUST")
@pytest.mark.parametrize("n", range(7))
def test_must(n):
    assert n != 3

@pytest.mark.clause("API-5", "SHOULD")
@pytest.mark.parametrize("n", range(6))
def test_should(n):
    assert n % 2
'''


def conformance(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(PROJECT)}, capture_output=True, text=True,
        timeout=180)


def run(tmp_path: Path, out: str, *args: str) -> subprocess.CompletedProcess[str]:
    cases = tmp_path / "test_cases.py"
    cases.write_text(CASES)
    return conformance(tmp_path, "run", "--cases", str(cases), "--report", str(tmp_path / out),
                       "--adapter", "tests.harness.helpers:LocalNativeAdapter",
                       "--conformance-world", "tests.harness.helpers:start_local_world",
                       *args)


def outcomes(path: Path) -> dict[str, Outcome]:
    return {c.case_id: c.outcome for c in load_results(path / "results.json").cases}


def test_three_shards_merged_equal_the_unsharded_run(tmp_path):
    full = run(tmp_path, "full")
    assert full.returncode == 1, full.stdout + full.stderr
    parts = []
    for k in (1, 2, 3):
        proc = run(tmp_path, f"shard{k}", "--shard", f"{k}/3", "-n", "2")
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        parts.append(outcomes(tmp_path / f"shard{k}"))
    assert all(parts) and sum(len(p) for p in parts) == 13
    merged = conformance(tmp_path, "merge", *(str(tmp_path / f"shard{k}") for k in (1, 2, 3)),
                         "--report", str(tmp_path / "merged"))
    assert merged.returncode == full.returncode, merged.stdout + merged.stderr
    assert outcomes(tmp_path / "merged") == outcomes(tmp_path / "full")
    for name in ("results.json", "junit.xml", "report.html", "summary.md"):
        assert (tmp_path / "merged" / name).is_file()


@pytest.mark.parametrize("spec", ["0/2", "3/2", "2", "a/b", "1/0"])
def test_a_malformed_shard_is_refused(spec):
    with pytest.raises(ShardError, match="expected K/N"):
        Shard.parse(spec)


RUN = RunInfo(suite_version="0.1.0", candidate="native", candidate_version="3.11",
              profile="default", python="3.11", platform="linux", started=1.0, finished=2.0)


def shard_dir(root: Path, name: str, shard: str, ids: list[str], run: RunInfo = RUN) -> Path:
    folder = root / name
    folder.mkdir()
    results = [CaseResult(i, ClauseRef("API-1", Level.MUST, ""), Outcome.PASS, "e", "o")
               for i in ids]
    write_results(folder / "results.json", run, results)
    Shard.parse(shard).write_marker(folder)
    return folder


def test_merge_refuses_a_missing_shard(tmp_path):
    a = shard_dir(tmp_path, "a", "1/3", ["t.py::a"])
    b = shard_dir(tmp_path, "b", "3/3", ["t.py::b"])
    with pytest.raises(MergeError, match=r"shard\(s\) 2/3 missing"):
        merge([a, b])


def test_merge_refuses_a_doubled_shard(tmp_path):
    a = shard_dir(tmp_path, "a", "1/2", ["t.py::a"])
    b = shard_dir(tmp_path, "b", "1/2", ["t.py::b"])
    with pytest.raises(MergeError, match="shard 1/2 given twice"):
        merge([a, b])


def test_merge_refuses_a_case_in_two_shards(tmp_path):
    a = shard_dir(tmp_path, "a", "1/2", ["t.py::a", "t.py::c"])
    b = shard_dir(tmp_path, "b", "2/2", ["t.py::b", "t.py::c"])
    with pytest.raises(MergeError, match=r"case t\.py::c is in two shards"):
        merge([a, b])


def test_merge_refuses_shards_of_different_candidates(tmp_path):
    a = shard_dir(tmp_path, "a", "1/2", ["t.py::a"])
    b = shard_dir(tmp_path, "b", "2/2", ["t.py::b"], replace(RUN, candidate="reference"))
    with pytest.raises(MergeError, match="candidate 'reference'"):
        merge([a, b])


def test_merge_refuses_different_splits_and_plain_reports(tmp_path):
    a = shard_dir(tmp_path, "a", "1/2", ["t.py::a"])
    b = shard_dir(tmp_path, "b", "2/3", ["t.py::b"])
    with pytest.raises(MergeError, match="not the same split"):
        merge([a, b])
    (b / "shard.json").unlink()
    with pytest.raises(MergeError, match="not a shard's report"):
        merge([a, b])


def test_merge_command_says_why_in_one_line(tmp_path):
    a = shard_dir(tmp_path, "a", "1/2", ["t.py::a"])
    proc = conformance(tmp_path, "merge", str(a), "--report", str(tmp_path / "out"))
    assert proc.returncode == 2 and proc.stderr.startswith("error: shard(s) 2/2 missing"), \
        proc.stderr
    assert not (tmp_path / "out").exists()
