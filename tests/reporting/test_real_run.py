"""A real run's files: the CLI runs a slice of the catalogue inside the world,
and what it writes is checked against the schema and parsed back. The
published results in reports/ must load and validate too."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.reporting.baseline import load_baseline
from conformance.reporting.results_json import SCHEMA_FILE, load_results

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the 'test' extras")

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = sorted((ROOT / "reports").glob("*/results.json"))


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))


def test_a_real_run_writes_valid_results_and_junit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--candidate", "native",
         "--clause", "DST-1", "--report", str(out), "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    # native has no policy: DST-1's MUSTs fail, so the run must say so.
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    validator().validate(data)
    results = load_results(out / "results.json")
    assert results.run.candidate == "native"
    assert results.cases and all(c.clause.id == "DST-1" for c in results.cases)
    failed = [c for c in results.cases if c.outcome.value == "FAIL"]
    assert failed, "an unrestricted candidate must fail DST-1"
    # Every failing blocked case carries the canary's record as evidence.
    for case in failed:
        assert any("journal" in e and e["journal"]["role"] == "canary" for e in case.evidence)
    suite = ET.parse(out / "junit.xml").getroot()
    cases = suite.iter("testcase")
    names = {p.get("name") for c in cases for p in c.iter("property")}
    assert {"clause", "level"} <= names
    assert (out / "report.html").stat().st_size > 0
    assert (out / "summary.md").read_text().strip()


@pytest.mark.parametrize("path", PUBLISHED, ids=[p.parent.name for p in PUBLISHED])
def test_published_results_validate(path: Path) -> None:
    validator().validate(json.loads(path.read_text()))
    results = load_results(path)
    baseline = load_baseline(ROOT / "reports" / "baselines" / f"{results.run.candidate}.json")
    assert baseline.candidate == results.run.candidate
