"""DST-8 has teeth in every order: each rebinding case fails against `native`
or against one of the near-miss candidates in tests/catalogue/rebinders/,
each of which judges a by-name call on an answer other than the one it uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cases.matrix import matrix
from conformance.model import Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = {
    "native": ["--candidate", "native"],
    "resolve-again": ["--adapter", "tests.catalogue.rebinders:ResolveAgainAdapter"],
    "judge-twice": ["--adapter", "tests.catalogue.rebinders:JudgeTwiceAdapter"],
    "cached-answer": ["--adapter", "tests.catalogue.rebinders:CachedAnswerAdapter"],
}


def _pytest_id(case_id: str) -> str:
    return case_id.encode("unicode_escape").decode("ascii")


def test_every_rebinding_case_fails_against_native_or_a_rebinder(tmp_path: Path) -> None:
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "conformance", "run", *args, "--report", str(tmp_path / name),
             "--clause", "DST-8", "-k", "rebind", "-n", "0", "-p", "no:cacheprovider", "-q"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, args in CANDIDATES.items()
    }
    failed_by: dict[str, set[str]] = {}
    for name, run in runs.items():
        output, _ = run.communicate(timeout=600)
        assert run.returncode == 1, f"{name}: {output[-3000:]}"
        results = load_results(tmp_path / name / "results.json").cases
        assert not [c.case_id for c in results if c.outcome is Outcome.ERROR], name
        failed_by[name] = {c.case_id.split("[", 1)[1][:-1] for c in results
                           if c.outcome is Outcome.FAIL}
    expected = {_pytest_id(c.id) for c in matrix("dst_rebinding")}
    assert len(expected) == 60
    caught = set().union(*failed_by.values())
    assert expected - caught == set(), "rebinding cases no near-miss candidate fails"
    # each near miss is caught somewhere native is not: none of them is redundant
    for name in ("resolve-again", "judge-twice", "cached-answer"):
        assert failed_by[name] - failed_by["native"], name
