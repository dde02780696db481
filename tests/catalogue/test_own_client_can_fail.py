"""The own-client cases have teeth on both sides (cases/test_own_client.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.model import Outcome
from conformance.reporting.results_json import load_results

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "test_own_client_fetches_a_public_page"
PRIVATE = "test_own_client_refuses_a_private_address"
METADATA = "test_own_client_refuses_the_metadata_server"
REBIND = "test_own_client_connects_to_the_address_it_judged"


@pytest.mark.parametrize(("adapter", "failing"), [
    ("NaiveClientAdapter", {PRIVATE, METADATA}),
    ("ReresolvingClientAdapter", {REBIND}),
    ("DenyingClientAdapter", {PUBLIC}),
])
def test_each_wrong_client_fails_exactly_its_cases(adapter, failing, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "run",
         "--adapter", f"tests.catalogue.ownclient:{adapter}", "--report", str(out),
         "-k", "own_client", "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cases = load_results(out / "results.json").cases
    outcomes = {c.case_id.split("::")[1]: c.outcome for c in cases}
    assert set(outcomes) == {PUBLIC, PRIVATE, METADATA, REBIND}
    assert {name for name, o in outcomes.items() if o is Outcome.FAIL} == failing
    assert all(o is Outcome.PASS for name, o in outcomes.items() if name not in failing)
