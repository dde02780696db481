"""The odd-spelling cases of api_forms.toml have teeth, and they judge the sandbox,
not the platform.

- Both native runtimes (Python 3 and 2.7) pass every row: the spellings mean to
  the platform what the rows say, so a failure is the sandbox's own reading.
- Every row fails against a near-miss candidate of tests/catalogue/misreaders/,
  or is the case a mutant of the reference recorded as killed since it was added
  (benchmarks/strength/verdicts.toml): no row holds of every reading.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from cases.matrix import matrix
from conformance.model import Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]
VERDICTS = ROOT / "benchmarks" / "strength" / "verdicts.toml"
RUNS = {
    "native": ["--candidate", "native"],
    "native-py27": ["--candidate", "native-py27"],
    "decimal-parts": ["--adapter", "tests.catalogue.misreaders:DecimalPartsAdapter"],
    "byte-order": ["--adapter", "tests.catalogue.misreaders:ByteOrderAdapter"],
}
TEST = "test_api.py::test_allowed_address_form"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict]]:
    """{candidate: {case id: Outcome}} for the spelling cases, one run after another
    (side by side, four runs on a small machine could slow a probe past its timeout)."""
    out = tmp_path_factory.mktemp("spellings")
    found: dict[str, dict] = {}
    for name, who in RUNS.items():
        done = subprocess.run(
            [sys.executable, "-m", "conformance", "run", *who, "-k", "test_allowed_address_form",
             "--report", str(out / name), "-n", "0", "-p", "no:cacheprovider", "-q"],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode in (0, 1), f"{name}: {done.stdout[-3000:]}{done.stderr[-2000:]}"
        results = load_results(out / name / "results.json").cases
        found[name] = {c.case_id: c.outcome for c in results}
    yield found


def _ids() -> set[str]:
    return {f"{TEST}[{c.id}]" for c in matrix("api_forms")}


def test_the_platform_reads_every_spelling_as_the_row_says(outcomes) -> None:
    for name in ("native", "native-py27"):
        assert set(outcomes[name]) == _ids(), name
        wrong = sorted(i for i, o in outcomes[name].items() if o is not Outcome.PASS)
        assert not wrong, f"{name} fails rows that should judge only a sandbox: {wrong}"


def test_every_spelling_case_fails_against_a_misreader_or_a_mutant(outcomes) -> None:
    failed = {i for name in ("decimal-parts", "byte-order")
              for i, o in outcomes[name].items() if o is Outcome.FAIL}
    by_mutant = {e["case"] for e in tomllib.loads(VERDICTS.read_text()).get("survivor", [])
                 if e.get("verdict") == "killed-since" and e["case"].startswith(TEST + "[")}
    # per row and protocol: a mutant killed over TCP shows the TCP case only
    assert _ids() - (failed | by_mutant) == set(), "spelling cases nothing fails"
    # each misreader is caught somewhere: neither is redundant
    for name in ("decimal-parts", "byte-order"):
        assert any(o is Outcome.FAIL for o in outcomes[name].values()), name
