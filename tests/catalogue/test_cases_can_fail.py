"""The catalogue has teeth on both sides: every destination row that expects
"allowed" fails against a candidate that blocks everything (the published
`native` results show the same for "blocked" rows, with canary evidence)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conformance.model import Level, Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]


def test_every_allowed_row_fails_against_deny_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run",
         "--adapter", "tests.catalogue.denyall:DenyAllAdapter", "--report", str(out),
         "--clause", "DST", "--clause", "EXC", "--clause", "GCE", "--clause", "P25",
         "-n", "2", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cases = load_results(out / "results.json").cases
    allowed = [
        c for c in cases
        for e in c.evidence
        if isinstance(e.get("matrix"), dict) and e["matrix"].get("expected") == "allowed"
        and c.clause.level is not Level.MAY  # MAY rows are recorded, never failed
    ]
    assert len(allowed) > 100, f"only {len(allowed)} allowed rows ran"
    held = [c.case_id for c in allowed if c.outcome not in (Outcome.FAIL, Outcome.NON_STRICT)]
    assert not held, f"allowed rows that a deny-all candidate did not fail: {held}"
    assert not [c for c in cases if c.outcome is Outcome.ERROR]
