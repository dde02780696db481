"""`run --shard K/N`: a deterministic, balanced part of the catalogue.

The split itself is pytest-split's (`--splits N --group K`, algorithm
`least_duration`): it is a plain pytest plugin, works under xdist (every
worker collects the same items and deselects the same ones) and balances by
recorded durations. Those durations are the catalogue's `durations.json`
(case ID -> seconds, the slower of the reference and native runs; a case
missing from it counts as the average), so the split does not depend on the
working directory. pytest-split keys durations by node id, which equals the
case ID because `run` makes the catalogue its pytest root.

A shard's report directory also gets `shard.json` ({"shard": K, "shards": N}),
which `python -m conformance merge` (conformance.merge) uses to refuse a
missing or doubled shard. Regenerate the durations from results files with
`python -m conformance.shards RESULTS.json... > cases/durations.json`.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from conformance.leaks import LEAK_MARK

MARKER = "shard.json"
DURATIONS = "durations.json"
_SPEC = re.compile(r"^([1-9][0-9]*)/([1-9][0-9]*)$")


class ShardError(ValueError):
    """A malformed --shard, or a shard marker that cannot be read."""


@dataclass(frozen=True)
class Shard:
    index: int   # K, from 1
    count: int   # N

    @classmethod
    def parse(cls, spec: str) -> Shard:
        """`K/N` with 1 <= K <= N."""
        match = _SPEC.match(spec.strip())
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ShardError(f"--shard {spec}: expected K/N with 1 <= K <= N, e.g. 2/4")
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def pytest_args(self, catalogue_dir: Path) -> list[str]:
        """pytest-split's options for this shard."""
        return ["--splits", str(self.count),
                "--group", str(self.index), "--splitting-algorithm", "least_duration",
                "--durations-path", str(catalogue_dir / DURATIONS)]

    def write_marker(self, report_dir: Path) -> Path:
        path = Path(report_dir) / MARKER
        path.write_text(json.dumps({"shard": self.index, "shards": self.count}) + "\n")
        return path

    @classmethod
    def read_marker(cls, report_dir: Path) -> Shard:
        path = Path(report_dir) / MARKER
        try:
            data = json.loads(path.read_text())
            return cls(int(data["shard"]), int(data["shards"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ShardError(f"{path}: not a shard's report ({exc}); run it with "
                             f"--shard K/N --report {report_dir}") from None


def check_available() -> None:
    """pytest-split is installed (a dependency of the suite). Not imported here:
    pytest loads it (and rewrites its asserts) through its entry point."""
    if importlib.util.find_spec("pytest_split") is None:
        raise ShardError("--shard needs pytest-split: pip install pytest-split")


def durations_from(results_files: Iterable[Path]) -> dict[str, float]:
    """Case ID -> the longest duration any of the results files recorded (leak findings
    are results of a case, not cases pytest runs: left out)."""
    durations: dict[str, float] = {}
    for path in results_files:
        for case in json.loads(Path(path).read_text())["cases"]:
            if LEAK_MARK in case["id"]:
                continue
            durations[case["id"]] = max(durations.get(case["id"], 0.0),
                                        round(float(case["duration"]), 3))
    return dict(sorted(durations.items()))


if __name__ == "__main__":
    json.dump(durations_from(Path(a) for a in sys.argv[1:]), sys.stdout, indent=0)
    sys.stdout.write("\n")
