"""`python -m conformance diff OLD NEW`: what changed between two runs.

OLD is a results file or a baseline; NEW is a results file. Prints the newly
failing cases (worse by SEVERITY, newly ERROR, or new and failing), the newly
passing ones, cases whose outcome changed at the same severity, new cases
and removed cases. Exit status: 0 nothing got worse, 1 something did, 2 an
input could not be read (the message says why).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from conformance.reporting.baseline import entries, parse_baseline
from conformance.reporting.comparison import Comparison, Kind, compare, section_lines
from conformance.reporting.errors import ReportingError, ResultsFileError
from conformance.reporting.files import read_json
from conformance.reporting.results_json import NOT_RESULTS, ResultsFile, parse_document

EXIT_SAME_OR_BETTER = 0
EXIT_WORSE = 1
EXIT_BAD_INPUT = 2

# Sections as `diff` names them, in print order; None = Comparison.regressions.
DIFF_SECTIONS: tuple[tuple[str, Kind | None], ...] = (
    ("Newly failing", None),
    ("Newly passing", Kind.IMPROVEMENT),
    ("Changed (same severity)", Kind.CHANGED),
    ("New cases", Kind.NEW),
    ("Removed cases", Kind.REMOVED),
    ("Not run in NEW", Kind.NOT_RUN),
)


@dataclass(frozen=True)
class Side:
    """One input of a diff, whichever kind of file it was."""

    path: Path
    label: str
    kind: str  # "results" or "baseline"
    candidate: str
    suite_version: str


def load_side(path: Path, *, allow_baseline: bool) -> tuple[Side, dict, bool]:
    """(side, entries by case ID, partial) for a results file or, if allowed, a baseline."""
    data = read_json(path, what="file", error=ResultsFileError, if_corrupt=NOT_RESULTS)
    if allow_baseline and isinstance(data, dict) and "baseline_version" in data:
        baseline = parse_baseline(data, path)
        side = Side(
            path,
            f"baseline {baseline.candidate} {baseline.candidate_version} "
            f"(suite {baseline.suite_version}, {baseline.created})",
            "baseline",
            baseline.candidate,
            baseline.suite_version,
        )
        return side, dict(baseline.expectations), False
    if isinstance(data, dict) and "baseline_version" in data:
        raise ResultsFileError(f"{path}: this is a baseline; NEW must be a results file")
    results: ResultsFile = parse_document(data, path)
    run = results.run
    side = Side(
        path,
        f"{run.candidate} {run.candidate_version} (suite {run.suite_version}, "
        f"profile {run.profile}{', interrupted' if run.interrupted else ''})",
        "results",
        run.candidate,
        run.suite_version,
    )
    return side, entries(results.cases), run.interrupted


def diff_files(
    old_path: Path, new_path: Path, *, strict: bool = False
) -> tuple[Side, Side, Comparison]:
    old, old_entries, _ = load_side(old_path, allow_baseline=True)
    new, new_entries, partial = load_side(new_path, allow_baseline=False)
    comparison = compare(
        old_entries,
        new_entries,
        strict=strict,
        partial=partial,
        error_always_regresses=old.kind == "baseline",
    )
    return old, new, comparison


def format_text(old: Side, new: Side, comparison: Comparison, limit: int | None = None) -> str:
    lines = [f"OLD: {old.path}: {old.label}", f"NEW: {new.path}: {new.label}"]
    if old.candidate != new.candidate:
        lines.append(f"note: comparing two candidates ({old.candidate} vs {new.candidate})")
    if old.suite_version != new.suite_version:
        lines.append(f"note: suite versions differ ({old.suite_version} vs {new.suite_version})")
    counts = comparison.counts()
    lines.append(
        f"{len(comparison.regressions)} newly failing, {counts['improvement']} newly passing, "
        f"{counts['changed']} changed, {counts['new']} new, {counts['removed']} removed, "
        f"{counts['unchanged']} unchanged"
    )
    for name, kind in DIFF_SECTIONS:
        shown = section_lines(comparison, name, kind, limit)
        if shown:
            lines += ["", *shown]
    return "\n".join(lines) + "\n"


def format_json(old: Side, new: Side, comparison: Comparison) -> str:
    def side(s: Side) -> dict[str, str]:
        return {
            "path": str(s.path),
            "kind": s.kind,
            "candidate": s.candidate,
            "suite_version": s.suite_version,
        }

    regressions = {c.case_id for c in comparison.regressions}
    return (
        json.dumps(
            {
                "old": side(old),
                "new": side(new),
                "newly_failing": len(regressions),
                "counts": comparison.counts(),
                "changes": [
                    {
                        "id": c.case_id,
                        "clause": c.clause,
                        "kind": c.kind.value,
                        "before": c.before.value if c.before else None,
                        "after": c.after.value if c.after else None,
                        "newly_failing": c.case_id in regressions,
                    }
                    for c in comparison.changes
                    if c.kind is not Kind.UNCHANGED
                ],
            },
            indent=1,
        )
        + "\n"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance diff",
        description="Compare two conformance results files (OLD may also be a baseline).",
        epilog="Exit status: 0 nothing got worse, 1 a case got worse or a new case fails, "
        "2 an input could not be read.",
    )
    parser.add_argument("old", type=Path, metavar="OLD", help="results file or baseline")
    parser.add_argument("new", type=Path, metavar="NEW", help="results file")
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.add_argument(
        "--strict", action="store_true", help="a new NON-STRICT case counts as newly failing"
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="list at most N cases per section"
    )
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Entry point of the `diff` subcommand; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    try:
        old, new, comparison = diff_files(args.old, args.new, strict=args.strict)
    except ReportingError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    out.write(
        format_json(old, new, comparison)
        if args.json
        else format_text(old, new, comparison, args.limit)
    )
    return EXIT_WORSE if comparison.regressed else EXIT_SAME_OR_BETTER


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
