"""`python -m conformance merge DIR... --report OUT [--baseline FILE]`.

Joins the results of `run --shard K/N` (one report directory per shard, as a
CI matrix leaves them) into one run, and finishes it like an unsharded run
(conformance.reporting.finish_run): all four reports, the baseline
comparison, the exit code. It refuses, in one line and with exit 2, what
would make the merged verdict wrong: a missing or doubled shard, shards of
different splits, a case in two shards, or shards of different candidates,
profiles, suite versions or strictness.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from conformance import reporting
from conformance.model import CaseResult, RunInfo
from conformance.reporting.results_json import load_results
from conformance.shards import Shard, ShardError

EXIT_REFUSED = 2
SAME = ("suite_version", "candidate", "candidate_version", "profile", "strict")


class MergeError(ValueError):
    """The shards do not make one run; the message says why."""


def merge(dirs: Sequence[Path]) -> tuple[RunInfo, list[CaseResult]]:
    """The merged run and its results; MergeError when the shards do not fit."""
    runs: list[RunInfo] = []
    results: list[CaseResult] = []
    seen: dict[str, Path] = {}
    shards: dict[int, Path] = {}
    count: int | None = None
    for folder in dirs:
        try:
            shard = Shard.read_marker(folder)
        except ShardError as exc:
            raise MergeError(str(exc)) from None
        if count is not None and shard.count != count:
            raise MergeError(f"{folder} is shard {shard} but {shards[min(shards)]} is "
                             f"shard {min(shards)}/{count}: not the same split")
        count = shard.count
        if shard.index in shards:
            raise MergeError(f"shard {shard} given twice: {shards[shard.index]} and {folder}")
        shards[shard.index] = folder
        try:
            loaded = load_results(Path(folder) / reporting.REPORT_FILES["results"])
        except reporting.ResultsFileError as exc:
            raise MergeError(str(exc)) from None
        if runs:
            _check_same(runs[0], loaded.run, dirs[0], folder)
        runs.append(loaded.run)
        for case in loaded.cases:
            if case.case_id in seen:
                raise MergeError(f"case {case.case_id} is in two shards: {seen[case.case_id]} "
                                 f"and {folder}")
            seen[case.case_id] = folder
            results.append(case)
    assert count is not None
    missing = sorted(set(range(1, count + 1)) - set(shards))
    if missing:
        raise MergeError(f"shard(s) {', '.join(f'{k}/{count}' for k in missing)} missing "
                         f"(given: {', '.join(f'{k}/{count}' for k in sorted(shards))})")
    first = runs[0]
    run = replace(first, started=min(r.started for r in runs),
                  finished=max(r.finished for r in runs),
                  interrupted=any(r.interrupted for r in runs),
                  argv=("merge", *(str(d) for d in dirs)))
    return run, results


def _check_same(first: RunInfo, other: RunInfo, first_dir: Path, other_dir: Path) -> None:
    for name in SAME:
        a, b = getattr(first, name), getattr(other, name)
        if a != b:
            raise MergeError(f"{other_dir} ran {name} {b!r}, {first_dir} ran {a!r}: "
                             f"shards of different runs")


def main(dirs: Sequence[Path | str], report_dir: Path, baseline: Path | None) -> int:
    try:
        run, results = merge([Path(d) for d in dirs])
    except MergeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"merged {len(dirs)} shard(s): {len(results)} cases of {run.candidate} "
          f"({run.profile})", file=sys.stderr)
    return reporting.finish_run(run, results, report_dir, baseline, False, run.strict)
