"""The catalogue is found through its entry point, and a case's ID does not
depend on the working directory or on other arguments (conformance.catalogue)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import catalogue

from .helpers import PROJECT


def test_the_registered_catalogue_is_the_cases_folder():
    found = catalogue.find()
    assert found.directory == (PROJECT / "cases").resolve()
    assert "DST-1" in found.load_clauses()


def test_an_unknown_catalogue_says_what_is_registered():
    with pytest.raises(catalogue.CatalogueNotFound, match="registered: gae-sockets"):
        catalogue.find("nosuch")


def _ids(cwd: Path, *extra: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "conformance", "list", *extra], cwd=cwd,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [line.split()[-1] for line in proc.stdout.splitlines()[:-1]]


def test_case_ids_do_not_depend_on_the_working_directory(tmp_path):
    here = _ids(PROJECT)
    assert here == _ids(tmp_path) == _ids(Path("/"))
    assert here[0].startswith("test_") and "::" in here[0]


def test_a_run_from_elsewhere_records_the_same_ids(tmp_path):
    """A run from another directory, with extra path arguments, records the IDs
    `list` shows (the baseline's format: `test_dst.py::test_destination[...]`)."""
    report = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--adapter",
         "tests.harness.helpers:LocalNativeAdapter", "--conformance-world",
         "tests.harness.helpers:start_local_world", "--clause", "API-1", "--report",
         str(report), "--baseline", str(tmp_path / "b.json"), "--update-baseline"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True, text=True, timeout=180)
    assert (report / "results.json").is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    from conformance.reporting.results_json import load_results
    ran = sorted(c.case_id for c in load_results(report / "results.json").cases)
    listed = sorted(i for i in _ids(PROJECT) if i in set(ran))
    assert ran and ran == listed
    assert all(i.startswith("test_api.py::") for i in ran)
