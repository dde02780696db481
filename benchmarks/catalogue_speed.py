"""How fast the whole catalogue runs against one candidate (target: reference,
-n 2, under 30 s on the project's machine). Prints figures, asserts nothing.

    /work/venv/bin/python benchmarks/catalogue_speed.py [--candidate reference] [-n 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", default="reference")
    parser.add_argument("-n", "--workers", default="2")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="catalogue-speed-") as tmp:
        report = Path(tmp) / "report"
        command = [sys.executable, "-m", "pytest", "cases", "-p", "conformance.plugin",
                   "--candidate", args.candidate, "-q", "-p", "no:cacheprovider",
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
    outcomes = Counter(c["outcome"] for c in cases)
    in_cases = sum(c["duration"] for c in cases)
    print(f"candidate         {args.candidate} (-n {args.workers})")
    print(f"cases             {len(cases)}")
    print(f"wall time         {elapsed:.1f} s  (target {TARGET_SECONDS:.0f} s: "
          f"{elapsed / TARGET_SECONDS:.2f}x of it)")
    print(f"cases per second  {len(cases) / elapsed:.1f}")
    print(f"time inside cases {in_cases:.1f} s (sum over workers)")
    print("outcomes          " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    slowest = sorted(cases, key=lambda c: -c["duration"])[:5]
    for case in slowest:
        print(f"  slow {case['duration']:6.2f} s  {case['id']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
