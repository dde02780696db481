"""Flakiness under CPU load: the full catalogue N times against a candidate, printed.

    nice python benchmarks/flake.py [--runs 50] [--candidate reference] [--hogs 2]
        [--workers 2] [--budget MINUTES] [-- extra pytest args, e.g. --clause API]

Each run is `python -m conformance run --candidate C -n 2 --report DIR` with
`--hogs` busy-looping processes beside it (a loaded CI machine). Prints each
case whose outcome changed between runs (and its outcomes), and the figure
"N changed in R runs". A developer runs it; CI does not (it takes ~1 min a run).
`--budget` stops starting new runs after that many minutes (a shared machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def burn() -> None:
    """One busy loop, at the lowest priority the caller gave (nice is inherited)."""
    while True:
        pass


def one_run(candidate: str, workers: int, extra: list[str], where: Path) -> dict[str, str]:
    """Outcome per case id of one catalogue run (ERROR for every case of a run with none)."""
    argv = [sys.executable, "-m", "conformance", "run", "--candidate", candidate,
            "-n", str(workers), "--report", str(where), "-q", "-p", "no:cacheprovider", *extra]
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    try:
        data = json.loads((where / "results.json").read_text())
    except (OSError, ValueError):
        return {}
    outcomes = {case["id"]: case["outcome"] for case in data.get("cases", [])}
    if data.get("run", {}).get("interrupted"):
        outcomes["<run>"] = "interrupted"
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--candidate", default="reference")
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--budget", type=float, default=None, metavar="MINUTES")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    hogs = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    seen: dict[str, list[str]] = defaultdict(list)
    began = time.monotonic()
    done = 0
    scratch = Path(tempfile.mkdtemp(prefix="flake-"))
    try:
        for index in range(args.runs):
            if args.budget is not None and time.monotonic() - began > args.budget * 60:
                break
            started = time.monotonic()
            outcomes = one_run(args.candidate, args.workers, extra, scratch / str(index))
            done += 1
            for case, outcome in outcomes.items():
                seen[case].append(outcome)
            print(f"run {done}: {len(outcomes)} cases in {time.monotonic() - started:.0f} s",
                  flush=True)
    finally:
        for hog in hogs:
            hog.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    # a case missing from some runs changed too ("absent")
    changed = {case: outs + ["absent"] * (done - len(outs))
               for case, outs in seen.items() if len(set(outs)) > 1 or len(outs) < done}
    for case, outs in sorted(changed.items()):
        counts = ", ".join(f"{o} x{outs.count(o)}" for o in sorted(set(outs)))
        print(f"CHANGED {case}: {counts}")
    print(f"{len(changed)} changed in {done} runs ({len(seen)} cases, {args.hogs} CPU hogs, "
          f"-n {args.workers}, {(time.monotonic() - began) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
