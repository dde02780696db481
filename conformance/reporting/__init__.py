"""Results, reports and baselines: what a run leaves behind, and its exit code.

The plugin calls `finish_run` once per session, on the controller, with every
case's result. It writes the reports (each on its own, so one failing writer
cannot cost the others), applies or updates the baseline, prints the
comparison and returns the exit code. One module per format:

- `results_json`: the versioned results file and its validating loader
- `junit`, `html`, `markdown`: reports for CI systems, people and job summaries
- `baseline`, `comparison`: expected outcomes per candidate and how runs compare
- `diff`: the `diff OLD NEW` subcommand
- `side_by_side`: the `compare` subcommand, several candidates on one page

The formats and the exit-code contract are documented in docs/results.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TextIO

from conformance.model import CaseResult, RunInfo
from conformance.reporting import baseline as baselines
from conformance.reporting import html, junit, markdown, results_json
from conformance.reporting.comparison import Comparison, compare, format_text
from conformance.reporting.errors import (
    BaselineCorrupt,
    BaselineError,
    BaselineMismatch,
    BaselineMissing,
    ReportingError,
    ResultsFileError,
)
from conformance.reporting.tally import run_failed

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNUSABLE",
    "REPORT_FILES",
    "BaselineCorrupt",
    "BaselineError",
    "BaselineMismatch",
    "BaselineMissing",
    "ReportingError",
    "ResultsFileError",
    "check_baseline",
    "exit_code",
    "finish_run",
]

EXIT_OK = 0  # no FAIL/ERROR (no regression, with a baseline)
EXIT_FAILED = 1  # a FAIL or ERROR (strict: NON-STRICT); with a baseline: a regression
EXIT_UNUSABLE = 2  # no trustworthy verdict: bad baseline, a report not written, run interrupted

# File names inside --report-dir.
REPORT_FILES = {
    "results": "results.json",
    "junit": "junit.xml",
    "html": "report.html",
    "markdown": "summary.md",
}


def exit_code(
    results: Sequence[CaseResult],
    strict: bool,
    comparison: Comparison | None = None,
    interrupted: bool = False,
) -> int:
    """The exit-code contract, without any I/O (docs/results.md)."""
    if interrupted:
        return EXIT_UNUSABLE
    if comparison is not None:
        return EXIT_FAILED if comparison.regressed else EXIT_OK
    return EXIT_FAILED if run_failed(results, strict) else EXIT_OK


def check_baseline(path: Path, run: RunInfo) -> None:
    """Fail fast, before any case runs: BaselineError if `path` cannot apply to `run`.

    Checks existence, format, suite version, candidate and profile; the case
    IDs are checked against the results in `finish_run`.
    """
    baselines.check_applies(baselines.load_baseline(path), run, ())


def finish_run(
    run: RunInfo,
    results: list[CaseResult],
    report_dir: Path | None,
    baseline: Path | None,
    update_baseline: bool,
    strict: bool,
    *,
    known_ids: Collection[str] | None = None,
    out: TextIO | None = None,
) -> int:
    """Write every report into report_dir (when given), apply the baseline, return the exit code.

    `baseline`: the baseline file to compare with, or with `update_baseline`
    the one to write (default `reports/baselines/<candidate>.json`).
    `known_ids`: every case ID the suite collected, before -k/-m selection;
    it tells a case left out of this run from a case removed from the suite.
    Messages (baseline comparison, problems, files written) go to `out`
    (default stderr). Never raises for a bad baseline or an unwritable
    report: it says so on `out` and returns EXIT_UNUSABLE.
    """
    out = out if out is not None else sys.stderr
    strict = strict or run.strict
    results = list(results)
    problems: list[str] = []
    comparison: Comparison | None = None
    label = ""

    if update_baseline:
        path = Path(baseline) if baseline is not None else baselines.default_path(run.candidate)
        label = str(path)
        try:
            comparison = _update_baseline(path, run, results, known_ids, strict, out)
        except (BaselineError, OSError, ValueError) as exc:
            problems.append(f"baseline not written: {exc}")
    elif baseline is not None:
        label = str(baseline)
        try:
            loaded = baselines.load_baseline(baseline)
            baselines.check_applies(loaded, run, results, known_ids)
            comparison = baselines.compare_with(
                loaded, results, strict=strict, known_ids=known_ids, partial=run.interrupted
            )
        except BaselineError as exc:
            problems.append(str(exc))

    if report_dir is not None:
        problems += _write_reports(Path(report_dir), run, results, strict, comparison, label, out)

    if comparison is not None:
        out.write("\n" + format_text(comparison, title=f"baseline {label}"))
    for problem in problems:
        print(f"error: {problem}", file=out)
    if run.interrupted:
        print("error: the run was interrupted; its results are incomplete", file=out)
    if problems:
        return EXIT_UNUSABLE
    return exit_code(results, strict, comparison, run.interrupted)


def _update_baseline(
    path: Path,
    run: RunInfo,
    results: list[CaseResult],
    known_ids: Collection[str] | None,
    strict: bool,
    out: TextIO,
) -> Comparison:
    """Write the baseline; return this run compared with it (only ERROR cases can regress)."""
    if run.interrupted:
        raise BaselineError("refusing to update the baseline from an interrupted run")
    if not results:
        raise BaselineError("refusing to write a baseline from a run with no cases")
    previous = None
    if path.exists():
        try:
            previous = baselines.load_baseline(path)
            baselines.check_applies(previous, run, results, known_ids)
        except BaselineError as exc:
            print(f"note: replacing {path}: {exc}", file=out)
            previous = None
    written = baselines.build_baseline(run, results, previous, known_ids)
    baselines.write_baseline(path, written)
    if previous is not None:
        changed = compare(previous.expectations, written.expectations)
        counts = changed.counts()
        print(
            f"baseline updated: {path} ({len(written.expectations)} cases; "
            f"{len(changed.regressions)} worse, {counts['improvement']} better, "
            f"{counts['new']} new, {counts['removed']} dropped)",
            file=out,
        )
    else:
        print(f"baseline written: {path} ({len(written.expectations)} cases)", file=out)
    return baselines.compare_with(written, results, strict=strict, known_ids=known_ids)


_Writer = Callable[[Path], object]


def _write_reports(
    report_dir: Path,
    run: RunInfo,
    results: list[CaseResult],
    strict: bool,
    comparison: Comparison | None,
    label: str,
    out: TextIO,
) -> list[str]:
    extra = {"strict": strict, "comparison": comparison, "baseline_label": label}
    writers: dict[str, _Writer] = {
        "results": lambda p: results_json.write_results(p, run, results),
        "junit": lambda p: junit.write_junit(p, run, results, strict),
        "html": lambda p: html.write_html(p, run, results, **extra),
        "markdown": lambda p: markdown.write_markdown(p, run, results, **extra),
    }
    problems = []
    written = []
    for name, write in writers.items():
        path = report_dir / REPORT_FILES[name]
        try:
            write(path)
            written.append(str(path))
        except Exception as exc:  # one broken writer must not cost the other reports
            problems.append(f"{name} report not written to {path}: {type(exc).__name__}: {exc}")
    if written:
        print(f"reports: {', '.join(written)}", file=out)
    return problems
