"""One catalogue run against the reference in the scratch copy: `-x`, `-n 2`,
niced, with a time limit; the outcome of each case read from results.json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CatalogueRun:
    outcomes: dict[str, str]     # case id -> outcome
    exit_code: int
    seconds: float
    timed_out: bool
    tail: str                    # the end of the output, for a run that failed


def clause_families(tree: Path) -> tuple[str, ...]:
    """The families of the catalogue's clauses (DST, EXC, ...), from the copy's clauses.toml."""
    data = tomllib.loads((tree / "cases" / "clauses.toml").read_text())
    return tuple(sorted({key.split("-")[0] for key, value in data.items()
                         if isinstance(value, dict)}))


def run_catalogue(tree: Path, env: dict[str, str], clauses: tuple[str, ...] = (), *,
                  workers: int = 2, exitfirst: bool = True, timeout: float = 300,
                  nice: int = 10) -> CatalogueRun:
    with tempfile.TemporaryDirectory(prefix="run-", dir=tree.parent) as out:
        argv = [sys.executable, "-m", "conformance", "run", "--candidate", "reference",
                "--report", out, "-q"]
        argv += ["-n", str(workers)] if workers else []
        argv += ["-x"] if exitfirst else []
        for clause in clauses:
            argv += ["--clause", clause]
        started = time.monotonic()
        proc = subprocess.Popen(argv, cwd=tree, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=lambda: _child_setup(nice))
        timed_out = False
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            output = _stop(proc)
        except BaseException:
            _stop(proc)
            raise
        seconds = time.monotonic() - started
        results = Path(out) / "results.json"
        outcomes: dict[str, str] = {}
        if results.exists():
            outcomes = {c["id"]: c["outcome"] for c in json.loads(results.read_text())["cases"]}
    tail = output.decode(errors="replace")[-1500:]
    return CatalogueRun(outcomes, proc.returncode, seconds, timed_out, tail)


def _child_setup(nice: int) -> None:
    """Niced, and Ctrl-C restored: a driver started in the background has SIGINT
    ignored, which the run would inherit, and _stop relies on it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if nice:
        os.nice(nice)


def _stop(proc: subprocess.Popen[bytes]) -> bytes:
    """Ctrl-C to the run's own process group (pytest then stops its worlds), SIGKILL
    if it is still there after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
    except ProcessLookupError:
        output, _ = proc.communicate()
    return output or b""
