"""The wheel as a new user gets it: built from this tree, installed in a fresh
virtualenv in a temporary directory, away from this checkout.

It adds only import names of its own (no generic `cases` or `sandbox`), and
the case IDs are the same from the repository, from `/` and from the wheel,
so a baseline made anywhere holds everywhere. Slow: pip fetches the
dependencies (from its cache after the first time).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
OWN_NAMES = {"conformance", "fakenet", "gae_sockets_catalogue", "gae_sockets_sandbox"}
SKIP = shutil.ignore_patterns(".git", ".tox", ".venv", "reports", "results", "build",
                              "*.egg-info", "__pycache__", ".*_cache", ".hypothesis")

pytestmark = pytest.mark.slow


def _run(argv: list[str], cwd: Path, ok: tuple[int, ...] = (0, 1)
         ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(argv, cwd=cwd, env=environ, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode in ok, f"{argv}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(PROJECT, source, ignore=SKIP)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work),
          str(source)], work)
    (found,) = work.glob("gae_sockets_conformance-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtualenv with the wheel and its dependencies."""
    where = tmp_path_factory.mktemp("venv") / "env"
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          str(wheel)], where.parent)
    return python


def test_wheel_adds_only_import_names_of_its_own(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    names = {t for t in tops if not t.endswith((".dist-info", ".data"))}
    assert names == OWN_NAMES


def test_installed_names_and_entry_points(installed: Path, tmp_path: Path):
    probe = ("import importlib.util, importlib.metadata as m, json; print(json.dumps({"
             "'cases': importlib.util.find_spec('cases') is not None, "
             "'sandbox': importlib.util.find_spec('sandbox') is not None, "
             "'catalogues': [e.value for e in m.entry_points(group='conformance.catalogues')], "
             "'reference': [e.value for e in m.entry_points(group='conformance.adapters') "
             "if e.name == 'reference']}))")
    found = json.loads(_run([str(installed), "-c", probe], tmp_path).stdout)
    assert found == {"cases": False, "sandbox": False, "catalogues": ["gae_sockets_catalogue"],
                     "reference": ["gae_sockets_sandbox.adapter:ReferenceAdapter"]}


def _case_ids(python: str, cwd: Path, *extra: str) -> list[str]:
    out = _run([python, "-m", "conformance", "list", *extra], cwd).stdout
    lines = out.strip().splitlines()
    assert lines[-1].endswith(" cases")
    return [line.split()[-1] for line in lines[:-1]]


def test_case_ids_are_the_same_from_the_repo_from_root_and_from_the_wheel(
        installed: Path, tmp_path: Path):
    from_repo = _case_ids(sys.executable, PROJECT)
    from_root = _case_ids(sys.executable, Path("/"))
    from_wheel = _case_ids(str(installed), tmp_path)
    assert len(from_repo) > 600
    assert from_repo == from_root == from_wheel
    assert all("/" not in i.split("::")[0] for i in from_wheel)   # no path before the file


@pytest.mark.world
def test_the_reference_runs_from_the_wheel_with_the_repo_ids(installed: Path, tmp_path: Path):
    """The renamed sandbox boots (its service and bootstrap by their real names) and
    the results hold the same IDs and outcomes as a run from the repository."""
    outcomes = {}
    for label, python, cwd in (("wheel", str(installed), tmp_path),
                               ("repo", sys.executable, PROJECT)):
        report = tmp_path / label
        proc = _run([python, "-m", "conformance", "run", "--candidate", "reference",
                     "--clause", "DST-1", "--report", str(report)], cwd, ok=(0, 1, 2))
        if proc.returncode == 2 and "namespace" in proc.stderr:
            pytest.skip(proc.stderr.strip())
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        cases = json.loads((report / "results.json").read_text())["cases"]
        outcomes[label] = {c["id"]: c["outcome"] for c in cases}
        assert not {"FAIL", "ERROR"} & set(outcomes[label].values()), outcomes[label]
    assert outcomes["wheel"] == outcomes["repo"]
    assert list(outcomes["wheel"].values()).count("PASS") > 20
