"""A leak fails the run at MUST whatever the case's own level: connect_ex (API-5,
SHOULD) aimed at a private address through `native` reaches its canary, and the run
fails without --strict through a `#leak-DST-1` result carrying the canary's event."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conformance.model import Level, Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]
CASE = "test_api.py::test_connect_ex_returns_eacces[DST-private-10-7]"


def run(candidate: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--candidate", candidate,
         "--report", str(out), "--clause", "API-5", "-k", "connect_ex and DST-private",
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_native_connect_ex_leak_fails_the_run_at_must(tmp_path: Path) -> None:
    done = run("native", tmp_path / "native")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cases = {c.case_id: c for c in load_results(tmp_path / "native" / "results.json").cases}
    assert cases[CASE].outcome is Outcome.NON_STRICT
    leak = cases[f"{CASE}#leak-DST-1"]
    assert (leak.outcome, leak.clause.id, leak.clause.level) == (Outcome.FAIL, "DST-1",
                                                                 Level.MUST)
    hits = [e["journal"] for e in leak.evidence if "journal" in e]
    assert hits and all(h["dst"] == ["10.0.0.1", 7] for h in hits)
    for report in ("junit.xml", "summary.md", "report.html"):
        assert "eacces[DST-private-10-7]#leak-DST-1" in (tmp_path / "native" / report).read_text()


def test_reference_has_no_leak_there(tmp_path: Path) -> None:
    done = run("reference", tmp_path / "reference")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cases = load_results(tmp_path / "reference" / "results.json").cases
    assert [c.case_id for c in cases] == [CASE]
