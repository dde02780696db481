"""The third-party adapter of docs/adapters.md works as printed: its code
blocks are written out and run through the suite, inside a fake internet."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conformance.model import Outcome
from conformance.reporting.results_json import load_results
from tests.fakenet.worlds import write_core_world

from .helpers import PROJECT

pytestmark = pytest.mark.world

CASES = '''
import pytest

@pytest.mark.clause("DST-1", "MUST")
def test_private_blocked(instance, verdict):
    socket = instance.module("socket")
    tried = instance.attempt(socket.create_connection, ("10.0.0.1", 7), 5)
    verdict.blocked(tried, address="10.0.0.1", port=7, proto="tcp")

@pytest.mark.clause("DST-10", "MUST")
def test_public_allowed(instance, verdict):
    socket = instance.module("socket")
    tried = instance.attempt(socket.create_connection, ("1.1.1.1", 7), 5)
    verdict.allowed(tried, address="1.1.1.1", port=7, proto="tcp")

@pytest.mark.clause("IDLE-1", "MUST")
def test_no_clock(clock):
    clock.advance(60)
'''


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def test_documented_adapter_runs(tmp_path):
    package, adapter = python_blocks((PROJECT / "docs" / "adapters.md").read_text())
    src = tmp_path / "src" / "tinysandbox"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text(package)
    (src / "conformance_adapter.py").write_text(adapter)
    (tmp_path / "test_cases.py").write_text(CASES)
    world = write_core_world(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT), str(tmp_path / "src")])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance.plugin", "-p", "no:cacheprovider",
         "--adapter", "tinysandbox.conformance_adapter:TinySandboxAdapter",
         "--world", str(world), "--report", str(tmp_path / "out"), "-q",
         str(tmp_path / "test_cases.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    results = {c.case_id.split("::")[-1]: c
               for c in load_results(tmp_path / "out" / "results.json").cases}
    assert {k: v.outcome for k, v in results.items()} == {
        "test_private_blocked": Outcome.PASS,
        "test_public_allowed": Outcome.PASS,
        "test_no_clock": Outcome.UNSUPPORTED,
    }, proc.stdout + proc.stderr
    assert proc.returncode == 0
    run = load_results(tmp_path / "out" / "results.json").run
    assert (run.candidate, run.candidate_version) == ("tinysandbox", "0.1")
