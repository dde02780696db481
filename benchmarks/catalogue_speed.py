"""How fast the whole catalogue runs against one candidate. Prints figures against the
targets of issue 10, asserts nothing:

- wall time of the full catalogue against `reference` with `-n 2`: at most 10 s;
- cases per second: at least 1.5x the rate of the 643-case catalogue (about 64 cases/s).

    .tox/py/bin/python benchmarks/catalogue_speed.py [--candidate reference] [-n 2]

Also prints where the time goes: the time spent inside cases (summed over workers),
the rest (interpreter and worker start, collection, world and candidate start,
reports), and the five slowest families (a family is one test function, all its
parameters together).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0
BEFORE_RATE = 643 / 10.0          # cases per second of the 643-case catalogue
TARGET_RATE = 1.5 * BEFORE_RATE


def family(case_id: str) -> str:
    """'test_dst.py::test_destination[DST-1:...]#leak-DST-1' -> 'test_dst.py::test_destination'."""
    return case_id.split("#", 1)[0].split("[", 1)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--candidate", default="reference")
    parser.add_argument("-n", "--workers", default="2")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catalogue-speed-") as tmp:
        report = Path(tmp) / "report"
        command = [sys.executable, "-m", "pytest", "cases", "-p", "conformance.plugin",
                   "--candidate", args.candidate, "-q", "-p", "no:cacheprovider",
                   "-p", "no:hypothesispytest",
                   "-n", args.workers, "--report", str(report)]
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        results = report / "results.json"
        if not results.exists():
            print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
            print(f"no results written (exit {done.returncode})")
            return 1
        cases = json.loads(results.read_text())["cases"]
    ran = [c for c in cases if "#leak-" not in c["id"]]
    leaks = [c for c in cases if "#leak-" in c["id"]]
    outcomes = Counter(c["outcome"] for c in ran)
    in_cases = sum(c["duration"] for c in ran)
    rate = len(ran) / elapsed
    workers = int(args.workers) if args.workers.isdigit() else 1
    print(f"candidate         {args.candidate} (-n {args.workers})")
    print(f"cases             {len(ran)} (+ {len(leaks)} leak findings)")
    print(f"wall time         {elapsed:.1f} s  (target <= {TARGET_SECONDS:.0f} s)")
    print(f"cases per second  {rate:.1f}  (target >= {TARGET_RATE:.0f}: 1.5x the 643-case "
          f"rate of {BEFORE_RATE:.0f}; now {rate / BEFORE_RATE:.2f}x)")
    print(f"time inside cases {in_cases:.1f} s summed over workers; the rest of the wall "
          f"time (start, collection, world, reports): about "
          f"{max(0.0, elapsed - in_cases / max(workers, 1)):.1f} s")
    print("outcomes          " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    by_family: dict[str, list[float]] = defaultdict(list)
    for case in ran:
        by_family[family(case["id"])].append(case["duration"])
    print("slowest families  (seconds summed, cases)")
    for name, times in sorted(by_family.items(), key=lambda kv: -sum(kv[1]))[:5]:
        print(f"  {sum(times):6.2f} s  {len(times):4d}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
