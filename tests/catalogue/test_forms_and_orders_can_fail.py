"""The address forms and the rebinding orders have teeth, and the forms data
tells the truth about the platform.

- Every dst_forms case fails against `native` on Python 3 or 2.7, with the
  canary's event, unless its row says the platform refuses the form; and every
  row that says so passes there (the platform really refuses it).
- Every DST-8 rebinding case fails against `native` or one of the near-miss
  candidates in tests/catalogue/rebinders/, each of which judges a by-name
  call on an answer other than the one it uses.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cases.matrix import matrix
from conformance.model import Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]
REBINDING = ["--clause", "DST-8", "-k", "test_rebinding_order"]
BOTH = ["--clause", "DST", "-k", "test_address_form or test_rebinding_order"]
RUNS = {
    "native": (["--candidate", "native"], BOTH),
    "native-py27": (["--candidate", "native-py27"], ["--clause", "DST", "-k", "test_address_form"]),
    "resolve-again": (["--adapter", "tests.catalogue.rebinders:ResolveAgainAdapter"], REBINDING),
    "judge-twice": (["--adapter", "tests.catalogue.rebinders:JudgeTwiceAdapter"], REBINDING),
    "cached-answer": (["--adapter", "tests.catalogue.rebinders:CachedAnswerAdapter"], REBINDING),
}


def _pytest_id(case_id: str) -> str:
    return case_id.encode("unicode_escape").decode("ascii")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict]]:
    """{candidate: {matrix case id: CaseResult}}, the five runs made side by side."""
    out = tmp_path_factory.mktemp("can-fail")
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "conformance", "run", *who, *what, "--report", str(out / name),
             "-n", "0", "-p", "no:cacheprovider", "-q"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, (who, what) in RUNS.items()
    }
    found: dict[str, dict] = {}
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=900)
        assert proc.returncode == 1, f"{name}: {output[-3000:]}"
        results = load_results(out / name / "results.json").cases
        assert not [c.case_id for c in results if c.outcome is Outcome.ERROR], name
        found[name] = {c.case_id.split("[", 1)[1][:-1]: c for c in results}
    yield found


def _canary_event(result) -> bool:
    return any(e.get("journal", {}).get("role") == "canary" for e in result.evidence)


def test_every_form_fails_natively_unless_the_platform_refuses_it(outcomes) -> None:
    forms = matrix("dst_forms")
    held, false_claims = [], []
    for case in forms:
        got = [outcomes[n][_pytest_id(case.id)] for n in ("native", "native-py27")]
        if case.platform_refuses:
            false_claims += [case.id for r in got if r.outcome is not Outcome.PASS]
        elif not any(r.outcome is Outcome.FAIL and _canary_event(r) for r in got):
            held.append(case.id)
    assert not held, f"forms no native runtime leaks through: {held}"
    assert not false_claims, f"rows say the platform refuses, but native did not: {false_claims}"
    assert sum(c.platform_refuses for c in forms) < len(forms) // 4


def test_every_rebinding_case_fails_against_native_or_a_rebinder(outcomes) -> None:
    failed_by = {name: {i for i, r in got.items() if r.outcome is Outcome.FAIL}
                 for name, got in outcomes.items() if name != "native-py27"}
    expected = {_pytest_id(c.id) for c in matrix("dst_rebinding")}
    assert len(expected) == 60
    assert expected - set().union(*failed_by.values()) == set(), \
        "rebinding cases no near-miss candidate fails"
    # each near miss is caught where native is not: none of them is redundant
    for name in ("resolve-again", "judge-twice", "cached-answer"):
        assert (failed_by[name] & expected) - failed_by["native"], name
